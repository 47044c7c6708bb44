"""What /metrics reports: gauges read from the database at scrape time.

Not in-process counters: gunicorn runs several processes, and each would count only the
requests and tasks it served itself (and start again from zero at every restart). The
database sees every process and the worker, so each scrape counts what happened in the
last 24 hours, or what is waiting now. Every query is bounded by an index (the audit
trail's time, the outbox's status, the task results of a few hundred rows), never a scan
of the ledger: a fixed handful of queries, whatever the size of the data.
"""

import datetime as dt
import logging

from django.db.models import Count, Max
from django_q.brokers import get_broker
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from audit.models import AuditEvent
from dunning.models import Channel, Run, Touch, TouchStatus
from inbox.models import InboundMessage
from inbox.models import Status as ReplyStatus
from webhooks.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

WINDOW = dt.timedelta(hours=24)
# The channels the outbox sends by (the others make tasks for people).
SENT = {f"dunning.{channel}.sent": channel for channel in (Channel.EMAIL, Channel.LETTER)}
FAILED = {f"dunning.{channel}.failed": channel for channel in (Channel.EMAIL, Channel.LETTER)}
BOUNCES = {"dunning.email.bounced": "bounced", "dunning.email.complained": "complained"}
REPLY = "inbox.reply.received"
# Touches waiting for the outbox, or for a person to settle them.
OUTBOX_WAITING = [TouchStatus.PENDING, TouchStatus.SENDING, TouchStatus.FAILED, TouchStatus.UNKNOWN]


class DatabaseCollector(Collector):
    def __init__(self, *, now: dt.datetime):
        self.now = now
        self.since = now - WINDOW

    def collect(self):
        yield from self._audit()
        yield from self._dunning_runs()
        yield self._outbox()
        yield self._webhooks()
        yield self._replies_waiting()
        yield from self._task_queue()

    def _audit(self):
        """Sends, failures, bounces and replies of the last 24 hours, in one query on the
        audit trail's time index: every one of them is an audit event."""
        counts = dict(
            AuditEvent.objects.filter(
                at__gte=self.since, action__in=[*SENT, *FAILED, *BOUNCES, REPLY]
            )
            .values("action")
            .annotate(n=Count("id"))
            .values_list("action", "n")
        )
        sent = GaugeMetricFamily(
            "dunmore_messages_sent_24h", "Messages sent in the last 24 hours", labels=["channel"]
        )
        failed = GaugeMetricFamily(
            "dunmore_send_failures_24h",
            "Messages given up on (no usable address, refused every attempt) in the last 24 hours",
            labels=["channel"],
        )
        for action, channel in SENT.items():
            sent.add_metric([channel], counts.get(action, 0))
        for action, channel in FAILED.items():
            failed.add_metric([channel], counts.get(action, 0))
        bounces = GaugeMetricFamily(
            "dunmore_bounces_24h",
            "Bounces and spam complaints reported by the email service in the last 24 hours",
            labels=["kind"],
        )
        for action, kind in BOUNCES.items():
            bounces.add_metric([kind], counts.get(action, 0))
        replies = GaugeMetricFamily(
            "dunmore_replies_received_24h",
            "Customers' replies received in the last 24 hours",
            value=counts.get(REPLY, 0),
        )
        return [sent, failed, bounces, replies]

    def _dunning_runs(self):
        """From the runs' records (dunning.Run): about a hundred a day."""
        counts = dict(
            Run.objects.filter(finished_at__gte=self.since)
            .values("succeeded")
            .annotate(n=Count("id"))
            .values_list("succeeded", "n")
        )
        by_outcome = GaugeMetricFamily(
            "dunmore_dunning_runs_24h",
            "Scheduled dunning runs finished in the last 24 hours, by outcome",
            labels=["outcome"],
        )
        by_outcome.add_metric(["succeeded"], counts.get(True, 0))
        by_outcome.add_metric(["failed"], counts.get(False, 0))
        yield by_outcome
        last = Run.objects.filter(succeeded=True).aggregate(last=Max("finished_at"))["last"]
        if last is not None:
            yield GaugeMetricFamily(
                "dunmore_dunning_last_run_age_seconds",
                "Seconds since the last scheduled dunning run finished without error",
                value=max(0.0, (self.now - last).total_seconds()),
            )

    def _outbox(self):
        return _by_status(
            "dunmore_outbox_touches",
            "Touches waiting to be sent (pending, sending) or for a person (failed, unknown)",
            Touch.objects.filter(status__in=OUTBOX_WAITING),
            OUTBOX_WAITING,
        )

    def _webhooks(self):
        """Deliveries made in the last 24 hours, by where they are now. Their ids grow with
        their creation time, which has no index: walking the primary key down from the
        newest to the first one older than the window bounds the count to the window."""
        older = (
            Delivery.objects.filter(created_at__lt=self.since)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        return _by_status(
            "dunmore_webhook_deliveries_24h",
            "Webhook deliveries made in the last 24 hours, by status",
            Delivery.objects.filter(id__gt=older or 0),
            DeliveryStatus,
        )

    def _replies_waiting(self):
        return GaugeMetricFamily(
            "dunmore_replies_waiting",
            "Customers' replies not yet handled (new or unassigned)",
            value=InboundMessage.objects.filter(
                status__in=[ReplyStatus.NEW, ReplyStatus.UNMATCHED]
            ).count(),
        )

    def _task_queue(self):
        try:
            queued = get_broker().queue_size() or 0
        except Exception:
            # Redis down: /healthz says so; the rest of the scrape is still worth having.
            logger.warning("the task queue's length could not be read", exc_info=True)
            return []
        return [
            GaugeMetricFamily(
                "dunmore_task_queue_length", "Background tasks queued for the worker", value=queued
            )
        ]


def registry_for(*, now: dt.datetime) -> CollectorRegistry:
    """A registry of our own per scrape: no process metrics of whichever gunicorn process
    answered, only what the database says."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(now=now))
    return registry


def _by_status(name: str, documentation: str, rows, statuses) -> GaugeMetricFamily:
    """A gauge of rows per status, every status listed (0 when none): one query."""
    counts = dict(rows.values("status").annotate(n=Count("id")).values_list("status", "n"))
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    for status in statuses:
        family.add_metric([status.value], counts.get(status, 0))
    return family
