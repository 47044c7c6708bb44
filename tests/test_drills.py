"""Fault drills for the sending path: `manage.py run_dunning` as a process of its own,
against PostgreSQL and a real SMTP server on the loopback, killed with SIGKILL at several
moments, its database failing after the hand-off, its connection cut mid-send, its mail
server silent, hung or down.

After each fault the run is repeated until quiet (as the schedule would, 20 minutes apart),
a collector settles whatever the app asks them to (as a careful one would, from the mail
server's log: "It was sent" when the server has it, else "Send it again"), and the chase
goes on to its next step. Then, counted from what the SMTP server received: 0 customers
mailed twice for one step, 0 steps skipped, every unknown outcome had a task, and the
audit trail verifies. Each drill's figures go to test-artifacts/drills.jsonl."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from dunning.models import Policy, Task, TaskKind, TaskStatus, Touch, TouchStatus
from dunning.outcomes import AGAIN, SENT, outcome_settle
from dunning.tests.factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from dunning.tests.smtp_peer import HOLD, SilentServer, SMTPPeer, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("ladder"),
]

CUSTOMERS = 6
APP = "dunmore_drill"  # the run's application_name, to find its database connection
RUN_GAP = dt.timedelta(minutes=20)
NEXT_STEP_AT = MONDAY_10 + dt.timedelta(days=4)  # the invoices are 7 days late
REPORT = Path(settings.BASE_DIR) / "test-artifacts" / "drills.jsonl"


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the fault drills run on PostgreSQL, as production does")


@pytest.fixture(scope="module", autouse=True)
def fresh_report():
    # Started afresh only where the drills run: a SQLite run must not wipe the figures.
    if connection.vendor == "postgresql":
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text("")


class Drill:
    """The world of one drill: customers, the SMTP server, runs in processes of their own."""

    def __init__(self, tmp_path, settings):
        self.customers = [overdue_customer(days=3) for _ in range(CUSTOMERS)]
        self.peer = SMTPPeer().start()
        self.tmp = tmp_path
        self.settings = settings
        self.port = self.peer.port
        self.timeout = 2
        self.tasks_seen: set[int] = set()
        self.unknown_without_task = 0
        self.runs = 0
        # The collector settles in this process: with the same mail server.
        settings.EMAIL_BACKEND = "dunning.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", self.peer.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT, settings.EMAIL_HANDOFF_SECONDS = 2, 6

    # --- runs ---------------------------------------------------------------------------

    def start(self, as_of: dt.datetime) -> subprocess.Popen:
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}?application_name={APP}"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "collections_app.settings",
            "DEBUG": "false",
            "SECRET_KEY": "drill-" + "k" * 20 + os.urandom(16).hex(),
            "DATABASE_URL": url,
            "EMAIL_URL": f"smtp://127.0.0.1:{self.port}",
            "EMAIL_TIMEOUT": str(self.timeout),
            "EMAIL_HANDOFF_SECONDS": str(self.timeout * 3),
            "MEDIA_ROOT": str(self.tmp / "media"),
            "LOG_LEVEL": "ERROR",
        }
        env.pop("ESP", None)
        self.runs += 1
        log = open(self.tmp / f"run-{self.runs}.log", "w")  # noqa: SIM115 - the process owns it
        return subprocess.Popen(
            [sys.executable, "manage.py", "run_dunning", "--as-of", as_of.isoformat()],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def run(self, as_of: dt.datetime, *, limit: float = 60) -> float:
        """One whole run; how long it took."""
        started = time.monotonic()
        process = self.start(as_of)
        code = process.wait(timeout=limit)
        assert code == 0, (self.tmp / f"run-{self.runs}.log").read_text()
        return time.monotonic() - started

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL, and its database session ends as the server would find it dead."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        self.terminate_sessions()

    def terminate_sessions(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [APP],
            )

    def wait_for_query(self, like: str, timeout: float = 30) -> None:
        """Until the run's session is busy in a statement like this one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                    "AND state = 'active' AND query ILIKE %s",
                    [APP, like],
                )
                if cursor.fetchone()[0]:
                    return
            time.sleep(0.05)
        raise TimeoutError(f"the run never got to {like!r}")

    def wait_for_claim(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not Touch.objects.filter(status=TouchStatus.SENDING).exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the run never claimed a message")
            time.sleep(0.05)

    # --- after the fault ----------------------------------------------------------------

    def until_quiet(self, as_of: dt.datetime) -> dt.datetime:
        """Run every RUN_GAP until nothing is due or being sent; the next run's time."""
        for _ in range(12):
            self.run(as_of)
            self.note_unknowns()
            as_of += RUN_GAP
            busy = Touch.objects.filter(status=TouchStatus.SENDING).exists() or (
                Touch.objects.filter(status=TouchStatus.PENDING, scheduled_for__lte=as_of)
                .exclude(channel__in=("phone", "legal", "task"))
                .exists()
            )
            if not busy:
                return as_of
        raise AssertionError("the runs never went quiet")

    def note_unknowns(self) -> None:
        for touch in Touch.objects.filter(status=TouchStatus.UNKNOWN):
            open_tasks = Task.objects.filter(
                touch=touch, kind=TaskKind.CHECK_SEND, status=TaskStatus.OPEN
            )
            self.unknown_without_task += not open_tasks.exists()
        self.tasks_seen |= set(
            Task.objects.filter(kind=TaskKind.CHECK_SEND).values_list("pk", flat=True)
        )

    def settle(self, as_of: dt.datetime, collector) -> int:
        """A collector answers every check task from the mail server's log."""
        received = {r.message_id for r in self.peer.received}
        tasks = Task.objects.filter(kind=TaskKind.CHECK_SEND, status=TaskStatus.OPEN)
        settled = 0
        for task in tasks.select_related("touch"):
            went = task.touch.message_id in received
            choice = SENT if went and task.touch.status == TouchStatus.UNKNOWN else AGAIN
            outcome_settle(actor=collector, task=task, choice=choice, at=as_of)
            settled += 1
        return settled

    def finish(self, as_of: dt.datetime, collector) -> None:
        """Quiet, settled, quiet; then the next step of the ladder for everyone."""
        as_of = self.until_quiet(as_of)
        self.settle(as_of, collector)
        self.until_quiet(as_of)
        self.peer.behave()
        self.until_quiet(NEXT_STEP_AT)

    # --- the count ----------------------------------------------------------------------

    def figures(self, name: str) -> dict:
        refs = {t.ref: t for t in Touch.objects.select_related("step", "customer")}
        per_step = Counter()
        for message in self.peer.received:
            touch = refs[message.message_id.strip("<>").split("@")[0]]
            per_step[(touch.customer_id, touch.step.position)] += 1
        version = Policy.objects.get(name="Standard").current_version
        expected = [
            step.position for step in version.steps.filter(channel="email", offset_days__in=(1, 7))
        ]
        skipped = sum(1 for c in self.customers for pos in expected if per_step[(c.pk, pos)] == 0)
        figures = {
            "drill": name,
            "customers": CUSTOMERS,
            "runs": self.runs,
            "messages": len(self.peer.received),
            "duplicates": sum(n - 1 for n in per_step.values() if n > 1),
            "skipped_steps": skipped,
            "tasks_raised": len(self.tasks_seen),
            "unknown_without_task": self.unknown_without_task,
            "unsettled_left": Touch.objects.filter(status=TouchStatus.UNKNOWN).count(),
        }
        with REPORT.open("a") as report:
            report.write(json.dumps(figures) + "\n")
        return figures

    def close(self) -> None:
        self.terminate_sessions()
        self.peer.stop()


@pytest.fixture
def drill(tmp_path, settings):
    world = Drill(tmp_path, settings)
    yield world
    world.close()


@pytest.fixture
def trigger():
    """Installs a trigger on dunning_touch for one drill, and removes it."""
    made = []

    def install(name: str, when: str, body: str, event: str = "UPDATE"):
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body} END $$ "
                "LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON dunning_touch FOR EACH ROW "
                f"WHEN ({when}) EXECUTE FUNCTION {name}()"
            )
        made.append(name)

    yield install
    for name in made:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON dunning_touch")
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")


def assert_clean(figures: dict) -> None:
    assert figures["duplicates"] == 0, figures
    assert figures["skipped_steps"] == 0, figures
    assert figures["unknown_without_task"] == 0, figures
    assert figures["unsettled_left"] == 0, figures
    call_command("audit_verify")


# --- kill -9 ----------------------------------------------------------------------------


def test_killed_while_the_server_holds_its_answer(drill, collector):
    drill.peer.behave(hold_after=2)
    run = drill.start(MONDAY_10)
    drill.peer.wait_for(3)
    drill.kill(run)
    drill.peer.behave()

    drill.finish(MONDAY_10 + RUN_GAP, collector)

    figures = drill.figures("kill -9 during the hand-off")
    assert_clean(figures)
    assert figures["tasks_raised"] == 1


def test_killed_after_the_server_took_it_while_recording(drill, trigger, collector):
    trigger("drill_slow_sent", "NEW.status = 'sent'", "PERFORM pg_sleep(60); RETURN NEW;")
    run = drill.start(MONDAY_10)
    drill.wait_for_query('UPDATE "dunning_touch"%sent%')
    drill.kill(run)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER drill_slow_sent ON dunning_touch")

    drill.finish(MONDAY_10 + RUN_GAP, collector)

    figures = drill.figures("kill -9 after the server took it, while recording")
    assert_clean(figures)
    assert figures["tasks_raised"] == 1


def test_killed_while_connecting_to_a_silent_server(drill, collector):
    silent = SilentServer().start()
    drill.port, drill.timeout = silent.port, 30
    run = drill.start(MONDAY_10)
    drill.wait_for_claim()
    time.sleep(0.5)  # connected, waiting for a greeting that never comes
    drill.kill(run)
    silent.stop()
    drill.port, drill.timeout = drill.peer.port, 2

    drill.finish(MONDAY_10 + RUN_GAP, collector)

    figures = drill.figures("kill -9 while connecting (nothing sent yet)")
    assert_clean(figures)
    assert figures["tasks_raised"] == 0  # nothing had left: put back without asking anyone


def test_killed_while_planning(drill, trigger, collector):
    trigger("drill_slow_plan", "true", "PERFORM pg_sleep(60); RETURN NEW;", event="INSERT")
    run = drill.start(MONDAY_10)
    drill.wait_for_query('INSERT INTO "dunning_touch"%')
    drill.kill(run)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER drill_slow_plan ON dunning_touch")

    drill.finish(MONDAY_10 + RUN_GAP, collector)

    assert_clean(drill.figures("kill -9 while planning"))


@pytest.mark.parametrize("after", [1, 4])
def test_killed_right_after_a_message_was_taken(drill, collector, after):
    run = drill.start(MONDAY_10)
    drill.peer.wait_for(after)
    drill.kill(run)

    drill.finish(MONDAY_10 + RUN_GAP, collector)

    assert_clean(drill.figures(f"kill -9 right after message {after} was taken"))


# --- the database ---------------------------------------------------------------------------


def test_the_database_refuses_to_record_the_send(drill, trigger, collector):
    trigger(
        "drill_refuse_sent", "NEW.status = 'sent'", "RAISE EXCEPTION 'drill: the disk is full';"
    )
    drill.run(MONDAY_10)
    drill.note_unknowns()
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER drill_refuse_sent ON dunning_touch")

    drill.finish(MONDAY_10 + RUN_GAP, collector)

    figures = drill.figures("database fails after the hand-off")
    assert_clean(figures)
    assert figures["tasks_raised"] == CUSTOMERS


def test_the_database_connection_is_cut_mid_send(drill, collector):
    drill.peer.behave(hold_after=1)
    run = drill.start(MONDAY_10)
    drill.peer.wait_for(2)
    drill.terminate_sessions()
    drill.peer.behave()
    assert run.wait(timeout=60) == 0

    drill.finish(MONDAY_10 + RUN_GAP, collector)

    figures = drill.figures("database connection terminated mid-send")
    assert_clean(figures)


# --- the mail server ------------------------------------------------------------------------


def test_a_server_that_takes_messages_and_never_answers(drill, collector):
    drill.peer.behave(HOLD)

    took = drill.run(MONDAY_10)
    drill.note_unknowns()
    drill.peer.behave()
    drill.finish(MONDAY_10 + RUN_GAP, collector)

    figures = drill.figures("server takes the body and never answers")
    assert_clean(figures)
    assert figures["tasks_raised"] == CUSTOMERS
    assert took < CUSTOMERS * drill.timeout + 20


def test_a_server_that_never_greets(drill, collector):
    silent = SilentServer().start()
    drill.port = silent.port

    took = drill.run(MONDAY_10)
    silent.stop()
    drill.port = drill.peer.port
    drill.finish(MONDAY_10 + RUN_GAP, collector)

    figures = drill.figures("server accepts connections and never answers")
    assert_clean(figures)
    assert figures["tasks_raised"] == 0
    assert took < drill.timeout + 20  # one timeout, not one per message


def test_a_server_that_is_down_for_a_run(drill, collector):
    drill.port = free_port()  # nothing listens there

    drill.run(MONDAY_10)
    assert not drill.peer.received
    drill.port = drill.peer.port
    drill.finish(MONDAY_10 + RUN_GAP, collector)

    figures = drill.figures("server down for a run")
    assert_clean(figures)
    assert figures["tasks_raised"] == 0
