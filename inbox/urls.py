from django.urls import path

from . import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox, name="list"),
    path("unassigned/", views.unassigned, name="unassigned"),
    path("handled/", views.handled, name="handled_list"),
    path("<int:pk>/handled/", views.mark_handled, name="handled"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
