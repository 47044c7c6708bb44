from django.urls import path

from . import screens

app_name = "api_tokens"

urlpatterns = [
    path("", screens.token_list, name="list"),
    path("new/", screens.token_new, name="new"),
    path("<int:pk>/created/", screens.token_created, name="created"),
    path("<int:pk>/revoke/", screens.token_revoke, name="revoke"),
]
