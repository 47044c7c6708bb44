from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("aging/", views.aging_drill, name="aging_drill"),
    path("export/<str:report>.<str:fmt>", views.export, name="export"),
    path("credit-holds.csv", views.credit_holds_export, name="credit_holds"),
]
