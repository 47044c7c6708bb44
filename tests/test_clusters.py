"""Many workers, one truth: two django-q2 clusters (`manage.py qcluster`, each a process
group of its own, as on two machines) on one Redis broker and one PostgreSQL database, with
a real SMTP server and a real webhook receiver on the loopback.

What django-q2 gives, and what the app adds:
- Its scheduler runs in each cluster's guard loop every 30 seconds, inside one transaction
  that locks the due schedules (select_for_update, without skip_locked). A second cluster
  waits for the lock, then PostgreSQL re-checks `next_run < now` against the row the first
  committed and finds nothing due: one task per due time.
- The Redis broker pops each task (BLPOP) and never hears back: a task runs at most once,
  and one a killed cluster had taken (running, or fetched ahead for its workers) is gone,
  as is one pushed before Redis noticed the dead cluster's waiting pop. `retry`,
  `max_attempts` and `ack_failures` act only on brokers that acknowledge (the ORM broker):
  on Redis nothing is handed out again.
- So recovery is the app's: every sending task claims rows by compare-and-set and the
  schedules sweep what a dead worker left (dunning.outbox: stale claims; portal's
  confirmations sweep; the webhook run's stale claims). These tests kill a cluster mid-send
  and let the other cluster's next runs finish the work.

The next runs are queued by hand rather than waited for (the scheduler's own half is the
first test), and a stale claim is aged in the database rather than waited for. Work the app
queues besides (the credit-hold rule and the dashboard's months after an import, the API's
queue refresh) recomputes: a lost one is redone by its schedule (hourly credit holds, the
dashboard refresh every 5 minutes, the dunning run)."""

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.models import Task as QTask
from django_q.signals import pre_enqueue
from django_q.tasks import async_task

from audit.models import AuditEvent
from dunning.credit_hold import credit_holds_apply
from dunning.models import DunningSettings, Task, TaskKind, Touch, TouchStatus
from dunning.outbox import STALE_CLAIM as TOUCH_STALE
from dunning.tests.factories import overdue_customer
from dunning.tests.smtp_peer import SMTPPeer, free_port
from dunning.tests.test_views_policies import settings_post
from invoices.importing import import_run
from invoices.models import Invoice
from invoices.tests.factories import ContactFactory, CustomerFactory
from portal.confirmations import STALE_CLAIM as CONFIRMATION_STALE
from portal.confirmations import confirmation_queue
from portal.models import Confirmation, ConfirmationStatus
from webhooks.models import Delivery, DeliveryStatus
from webhooks.services import endpoint_create
from webhooks.tasks import STALE_AFTER as DELIVERY_STALE

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS = "redis://127.0.0.1:6379/14"  # keys named for each run: suites may share it
DUNNING = "dunning.tasks.run_dunning_task"
SWEEP = "portal.tasks.confirmations_sweep_task"
WEBHOOKS = "webhooks.tasks.webhooks_task"
CREDIT_HOLDS = "dunning.tasks.credit_holds_task"
REFILL = "reports.tasks.refill_months"
DELIVER = "portal.tasks.confirmation_deliver_task"
QUEUED = (CREDIT_HOLDS, REFILL, DELIVER)  # what imports and the customer page queue
HELD = 4242  # advisory lock key: holds a scheduler's transaction open


@pytest.fixture(autouse=True)
def postgresql_and_redis():
    if connection.vendor != "postgresql":
        pytest.skip("two clusters need PostgreSQL's row locks, as production has")
    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS}")


# Generous: a wait ends as soon as its check holds, and CI runs suites side by side on
# two cores, where a scheduled run can take many times its quiet time.
def wait_until(check, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.1)
    return found


class Clusters:
    """qcluster processes on one queue, named for this run only; this process enqueues to
    the same queue (its own django-q2 settings run tasks inline, so they are switched)."""

    def __init__(self, tmp_path, monkeypatch, smtp_port: int):
        self.name = f"dunmore-test-{uuid.uuid4().hex[:12]}"
        self.tmp = tmp_path
        self.smtp_port = smtp_port
        self.processes: dict[str, subprocess.Popen] = {}
        for attribute, value in {
            "SYNC": False,
            "ORM": None,
            "REDIS": REDIS,
            "PREFIX": self.name,
            "CLUSTER_NAME": self.name,
        }.items():
            monkeypatch.setattr(Conf, attribute, value)
        self.enqueued: list[dict] = []
        pre_enqueue.connect(self._note, dispatch_uid="tests.clusters")

    def _note(self, sender, task, **kwargs):
        self.enqueued.append({"id": task["id"], "func": task["func"]})

    def app(self, cluster: str) -> str:
        return f"{self.name}-{cluster}"

    def start(self, *clusters: str) -> None:
        """Start these clusters side by side; returns once each is running."""
        for cluster in clusters:
            self._spawn(cluster)
        for cluster in clusters:
            log, process = self.log(cluster), self.processes[cluster]
            try:
                wait_until(lambda log=log: "running." in log.read_text(), cluster, timeout=60)
            except TimeoutError as late:
                raise AssertionError(f"exit code {process.poll()}: {log.read_text()}") from late

    def _spawn(self, cluster: str) -> None:
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}?application_name={self.app(cluster)}"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "collections_app.settings",
            "DEBUG": "false",
            "SECRET_KEY": settings.SECRET_KEY,  # signs the task packages both ways
            "DATABASE_URL": url,
            "REDIS_URL": f"{REDIS}?client_name={self.app(cluster)}",
            "Q_NAME": self.name,
            "CACHE_KEY_PREFIX": self.name,
            "Q_WORKERS": "2",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "EMAIL_TIMEOUT": "30",  # a held answer outlasts the kill
            "EMAIL_HANDOFF_SECONDS": "60",
            "WEBHOOKS_ALLOW_PRIVATE_URLS": "true",
            "MEDIA_ROOT": str(self.tmp / "media"),
            "LOG_LEVEL": "INFO",
        }
        for name in ("ESP", "INBOX_IMAP_URL", "DB_POOL"):
            env.pop(name, None)
        log = open(self.log(cluster), "w")  # noqa: SIM115 - the process owns it
        self.processes[cluster] = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole, workers included
        )

    def log(self, cluster: str):
        return self.tmp / f"cluster-{cluster}.log"

    def kill(self, cluster: str) -> None:
        """SIGKILL to the cluster and its workers; the server ends its sessions."""
        process = self.processes.pop(cluster)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [self.app(cluster)],
            )
        # Until Redis has seen its connections close: a pop the dead cluster left waiting
        # would take the next task pushed, and the task would be lost with it.
        server = redis.Redis.from_url(REDIS)
        wait_until(
            lambda: all(c["name"] != self.app(cluster) for c in server.client_list()),
            f"Redis to drop cluster {cluster}",
        )

    def pause(self, cluster: str) -> None:
        """Stop the cluster (SIGSTOP) until resume: it takes no task meanwhile, once its
        pusher's last blocking pop (one second) has run out."""
        os.killpg(self.processes[cluster].pid, signal.SIGSTOP)
        time.sleep(1.5)

    def resume(self, cluster: str) -> None:
        os.killpg(self.processes[cluster].pid, signal.SIGCONT)

    def took(self, cluster: str) -> int:
        """How many tasks the cluster's workers started, from its log."""
        return self.log(cluster).read_text().count(" processing ")

    def ran(self, *funcs: str) -> list:
        """The django-q2 results of the tasks this process enqueued for these functions."""
        ids = [t["id"] for t in self.enqueued if t["func"] in funcs]
        return list(QTask.objects.filter(id__in=ids))

    def close(self) -> None:
        pre_enqueue.disconnect(dispatch_uid="tests.clusters")
        for cluster in list(self.processes):
            self.kill(cluster)
        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"*{self.name}*"):
            client.delete(key)


@pytest.fixture
def peer():
    server = SMTPPeer().start()
    yield server
    server.stop()


@pytest.fixture
def clusters(tmp_path, monkeypatch, peer):
    world = Clusters(tmp_path, monkeypatch, peer.port)
    yield world
    world.close()


class Receiver:
    """A webhook receiver on the loopback: answers 200 and keeps each webhook-id, except
    that `hold` requests are taken and left unanswered until `release`."""

    def __init__(self, hold: int = 0):
        self.arrived: list[str] = []
        self.answered: list[str] = []
        self.hold = hold
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                webhook_id = self.headers["webhook-id"]
                receiver.arrived.append(webhook_id)
                if len(receiver.arrived) <= receiver.hold:
                    receiver.release.wait(30)
                    return  # its sender is gone: no answer
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")
                receiver.answered.append(webhook_id)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self):
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def open_all_day():
    """Messages may go at any hour of any day: the tests run whenever CI does."""
    DunningSettings.objects.filter(pk=DunningSettings.current().pk).update(
        window_start=dt.time(0, 0),
        window_end=dt.time(23, 59, 59, 999999),
        business_days="0,1,2,3,4,5,6",
        holiday_country="",
    )


def schedules_due(due: bool) -> list[str]:
    """Every schedule due now, or none for the next day; their names."""
    moment = timezone.now() + (dt.timedelta(minutes=-1) if due else dt.timedelta(days=1))
    Schedule.objects.update(next_run=moment)
    return list(Schedule.objects.values_list("name", flat=True))


def credit_hold_events(customers: int) -> set[str]:
    """The credit-hold rule holds some customers (10 days late; its limit is 5) and says so
    in the audit trail; the webhook ids of those events."""
    DunningSettings.objects.filter(pk=1).update(credit_hold_overdue_days=5)
    for _ in range(customers):
        overdue_customer(days=10, as_of=timezone.now(), email=False)
    credit_holds_apply(as_of_date=timezone.localdate())
    events = AuditEvent.objects.filter(action="customer.credit_hold.set")
    return {f"msg_audit_{pk}" for pk in events.values_list("pk", flat=True)}


def subscribe(receiver: "Receiver", settings) -> None:
    """An endpoint on the loopback (allowed on purpose, as for an ERP inside the network)."""
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    endpoint_create(
        actor=None,
        url=receiver.url,
        description="ERP",
        event_types=["credit_hold.changed"],
        now=timezone.now(),
    )


def received_per_address(peer) -> Counter:
    return Counter(message.to for message in peer.received)


# --- the scheduler --------------------------------------------------------------------------


@pytest.fixture
def scheduler_held():
    """A scheduler that updates a schedule waits on an advisory lock this test holds, so
    its transaction stays open while the other cluster's scheduler comes to the same rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION clusters_hold() RETURNS trigger AS $$ BEGIN "
            f"PERFORM pg_advisory_xact_lock_shared({HELD}); RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER clusters_hold BEFORE UPDATE ON django_q_schedule "
            "FOR EACH ROW EXECUTE FUNCTION clusters_hold()"
        )
        cursor.execute("SELECT pg_advisory_lock(%s)", [HELD])
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock_all()")
        cursor.execute("DROP TRIGGER IF EXISTS clusters_hold ON django_q_schedule")
        cursor.execute("DROP FUNCTION IF EXISTS clusters_hold()")


def both_schedulers_at_the_rows(clusters) -> bool:
    """One scheduler is inside its transaction, updating; the other waits for its lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE application_name LIKE %s "
            "AND wait_event_type IN ('Lock', 'LWLock') AND query ILIKE %s",
            [f"{clusters.name}-%", '%"django_q_schedule"%'],
        )
        waiting = [row[0].lstrip().upper() for row in cursor.fetchall()]
    updating = any(q.startswith("UPDATE") for q in waiting)
    selecting = any(q.startswith("SELECT") and "FOR UPDATE" in q for q in waiting)
    return updating and selecting


def test_each_due_schedule_runs_once_though_both_schedulers_see_it(
    clusters, peer, open_all_day, scheduler_held, settings
):
    receiver = Receiver()
    subscribe(receiver, settings)
    held = credit_hold_events(3)
    chased = [overdue_customer(days=3, as_of=timezone.now()) for _ in range(4)]
    names = schedules_due(True)

    clusters.start("a", "b")
    wait_until(lambda: both_schedulers_at_the_rows(clusters), "both schedulers", timeout=60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [HELD])
    wait_until(
        lambda: (
            set(QTask.objects.filter(success=True).values_list("group", flat=True)) >= set(names)
        ),
        "every scheduled task",
    )
    wait_until(lambda: len(peer.received) >= len(chased), "the dunning messages")
    wait_until(lambda: len(receiver.answered) >= len(held), "the webhooks")
    receiver.close()

    runs = Counter(QTask.objects.values_list("group", flat=True))
    assert {name: runs[name] for name in names} == dict.fromkeys(names, 1)
    assert not QTask.objects.filter(success=False).exists()
    assert sorted(received_per_address(peer).values()) == [1] * len(chased)
    assert sorted(receiver.arrived) == sorted(held)
    assert Schedule.objects.filter(next_run__lte=timezone.now()).count() == 0


# --- work queued by the app -----------------------------------------------------------------


def invoices_csv(customers, first: int) -> io.BytesIO:
    due = timezone.localdate() - dt.timedelta(days=10)
    lines = ["number,customer_external_id,issue_date,due_date,currency,amount"] + [
        f"CL-{first + n},{customer.external_id},{due - dt.timedelta(days=30)},{due},GBP,120.00"
        for n, customer in enumerate(customers)
    ]
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def test_work_queued_by_imports_and_the_customer_page_runs_once(clusters, peer, admin_user):
    schedules_due(False)
    DunningSettings.objects.filter(pk=1).update(credit_hold_overdue_days=5)
    customers = [CustomerFactory(currency="GBP") for _ in range(6)]
    contacts = [ContactFactory() for _ in range(8)]
    clusters.start("a", "b")

    for part in range(3):  # three imports, as an admin confirms them on the import page
        import_run(
            kind="invoices",
            file=invoices_csv(customers[part * 2 : part * 2 + 2], first=part * 2),
            filename=f"part-{part}.csv",
            actor=admin_user,
            source="Ledgerly",
        )
    for n, contact in enumerate(contacts):  # what a customer did on their page, confirmed
        with transaction.atomic():
            confirmation_queue(
                contact=contact,
                key=f"dispute:{n}",
                subject=f"Your dispute {n}",
                text="We have it.",
                now=timezone.now(),
            )
    wait_until(lambda: len(clusters.ran(*QUEUED)) == len(clusters.enqueued), "every queued task")

    assert Counter(t["func"] for t in clusters.enqueued if t["func"] != REFILL) == {
        CREDIT_HOLDS: 3,
        DELIVER: len(contacts),
    }
    assert all(task.success for task in clusters.ran(*QUEUED))
    assert clusters.took("a") and clusters.took("b")  # both shared the queue
    assert Invoice.objects.filter(number__startswith="CL-").count() == len(customers)
    holds = Counter(
        AuditEvent.objects.filter(action="customer.credit_hold.set").values_list(
            "customer_id", flat=True
        )
    )
    assert holds == dict.fromkeys([c.pk for c in customers], 1)
    assert received_per_address(peer) == {c.email: 1 for c in contacts}
    assert set(Confirmation.objects.values_list("status", flat=True)) == {ConfirmationStatus.SENT}


# --- a cluster killed mid-task ----------------------------------------------------------------


def test_mail_a_killed_cluster_was_sending_is_finished_by_the_other_and_never_doubled(
    clusters, peer, open_all_day
):
    schedules_due(False)
    chased = [overdue_customer(days=3, as_of=timezone.now()) for _ in range(3)]
    contacts = [ContactFactory() for _ in range(4)]
    peer.behave(hold_after=1)  # answers one message, then holds every answer
    clusters.start("a", "b")
    clusters.pause("b")  # so that "a" takes the work

    async_task(DUNNING)  # the run its schedule would start
    for n, contact in enumerate(contacts):
        with transaction.atomic():
            confirmation_queue(
                contact=contact,
                key=f"promise:{n}",
                subject="Promise",
                text="Thanks.",
                now=timezone.now(),
            )
    peer.wait_for(3)  # both of its workers are mid-hand-off; the rest it has fetched ahead
    clusters.resume("b")
    clusters.kill("a")
    peer.behave()
    # The claims the dead cluster left go stale (aged here rather than waited for) ...
    Touch.objects.filter(status=TouchStatus.SENDING).update(
        claimed_at=F("claimed_at") - TOUCH_STALE - dt.timedelta(seconds=1)
    )
    Confirmation.objects.exclude(status=ConfirmationStatus.SENT).update(
        created_at=F("created_at") - CONFIRMATION_STALE - dt.timedelta(seconds=1)
    )
    Confirmation.objects.filter(handoff_at__isnull=False).update(
        handoff_at=F("handoff_at") - CONFIRMATION_STALE - dt.timedelta(seconds=1)
    )
    # ... and the schedules' next runs, on the other cluster, take over.
    async_task(SWEEP)
    async_task(DUNNING)
    wait_until(lambda: sum(t.success for t in clusters.ran(SWEEP, DUNNING)) == 2, "the next runs")

    assert len(clusters.ran(DUNNING)) == 1  # the killed run was not handed out again

    addresses = [c.contacts.get().email for c in chased] + [c.email for c in contacts]
    assert received_per_address(peer) == dict.fromkeys(addresses, 1)
    unknown = Touch.objects.filter(status=TouchStatus.UNKNOWN).count() + (
        Confirmation.objects.filter(status=ConfirmationStatus.UNKNOWN).count()
    )
    assert unknown == 2  # the two the dead cluster was handing off when it died
    assert Task.objects.filter(kind=TaskKind.CHECK_SEND).count() == unknown
    assert not Touch.objects.filter(
        status__in=[TouchStatus.SENDING, TouchStatus.PENDING], channel="email"
    ).exists()
    assert not Confirmation.objects.filter(
        status__in=[ConfirmationStatus.PENDING, ConfirmationStatus.SENDING]
    ).exists()


def test_a_webhook_cut_by_a_killed_cluster_is_sent_again_by_the_other_under_its_id(
    clusters, settings
):
    schedules_due(False)
    receiver = Receiver(hold=1)
    subscribe(receiver, settings)
    held = credit_hold_events(4)
    clusters.start("a", "b")
    clusters.pause("b")

    async_task(WEBHOOKS)  # the run of its minute
    wait_until(lambda: receiver.arrived, "the first post")
    clusters.resume("b")
    clusters.kill("a")
    receiver.release.set()
    Delivery.objects.filter(status=DeliveryStatus.SENDING).update(
        claimed_at=F("claimed_at") - DELIVERY_STALE - dt.timedelta(seconds=1)
    )
    async_task(WEBHOOKS)  # the next minute's run, on the other cluster
    wait_until(lambda: len(receiver.answered) == len(held), "every webhook answered")
    receiver.close()

    cut = receiver.arrived[0]
    assert sorted(receiver.answered) == sorted(held)
    assert sorted(receiver.arrived) == sorted([*held, cut])  # the cut one twice, same webhook-id
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}


# --- the broker down --------------------------------------------------------------------------


def test_the_credit_hold_rule_is_saved_while_the_broker_is_down(admin_client_, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{free_port()}/0")  # nobody there

    response = admin_client_.post(
        reverse("dunning:settings"), settings_post(credit_hold_overdue_days=30)
    )

    # The hourly run applies the rule; the admin is not shown an error for a saved change.
    assert response.status_code == 302
    assert DunningSettings.current().credit_hold_overdue_days == 30
