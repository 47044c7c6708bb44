from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from .models import Delivery, DeliveryStatus, Endpoint

PAGE_SIZE = 50


def endpoints_for_list():
    return Endpoint.objects.annotate(
        failing=Count(
            "deliveries",
            filter=Q(deliveries__status__in=[DeliveryStatus.FAILED, DeliveryStatus.GIVEN_UP]),
        ),
        succeeded=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SUCCEEDED)),
    ).order_by("id")


def deliveries_page(*, endpoint: Endpoint, page: str | int | None) -> Page:
    deliveries = Delivery.objects.filter(endpoint=endpoint).order_by("-id")
    return Paginator(deliveries, PAGE_SIZE).get_page(page)
