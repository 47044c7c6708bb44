from django.urls import path

from . import import_views as views

app_name = "import"

urlpatterns = [
    path("", views.import_start, name="start"),
    path("<uuid:token>/map/", views.import_map, name="map"),
    path("<uuid:token>/preview/", views.import_preview, name="preview"),
    path("<uuid:token>/confirm/", views.import_confirm, name="confirm"),
    path("batches/<int:pk>/", views.import_result, name="result"),
]
