from django.contrib.auth import views as auth_views
from django.urls import path

from . import lockout_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("settings/", views.settings_view, name="settings"),
    path("settings/users/new/", views.user_new, name="user_new"),
    path("settings/users/<int:pk>/role/", views.user_role, name="user_role"),
    path("settings/users/<int:pk>/active/", views.user_active, name="user_active"),
    path("settings/lockouts/", lockout_views.lockout_list, name="lockout_list"),
    path("settings/lockouts/unlock/", lockout_views.lockout_unlock, name="lockout_unlock"),
]
