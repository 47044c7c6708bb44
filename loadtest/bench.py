"""bench load: 50 people working the scale set in browsers' place while a full dunning run and
a 100,000-row import run, against gunicorn as production runs it.

The scale database is copied first (CREATE DATABASE ... TEMPLATE), and everything happens in
the copy, which is dropped at the end: the engine's sends, the import and the people's notes
change nothing in the set itself. In the copy: 40 collectors, each given 250 overdue
customers, and 10 managers, signed in by sessions made here (no password hashing at the
start of the run); an invoices CSV of ROWS new invoices for existing customers.

Then scripts/web.sh, as the image runs it (gunicorn, WEB_WORKERS sync workers, pooled
connections, DEBUG off), serves the copy on the loopback, with cache and sessions on Redis
and the worker (qcluster, nice 10) beside it for what writes queue (the dunning run's own
schedule is taken out of the copy: the run is started here); Locust
(loadtest/locustfile.py, headless) ramps the people up, and once they are all working the
engine run (`run_dunning`, mail to the dummy backend) and the import (`import_csv`) start
side by side, at the worker's priority (nice 10, as docker-compose runs it). Locust runs
SECONDS in all; the figures are p50/p95/p99 per page over the whole run, failures (any answer
but 200), how long the import took, and the messages the run sent (a first run over the scale
set has tens of thousands due, more than the window: it is stopped with the people).
LOAD_JOBS=0 measures the people alone.

Needs the `load` extra (Locust): `.venv/bin/pip install -e '.[load]'`."""

import csv
import json
import os
import random
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from invoices.bench import _cpus

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COLLECTORS = int(os.environ.get("LOAD_COLLECTORS", 40))
MANAGERS = int(os.environ.get("LOAD_MANAGERS", 10))
SECONDS = int(os.environ.get("LOAD_SECONDS", 180))
WEB_WORKERS = int(os.environ.get("LOAD_WEB_WORKERS", 3))  # the image's WEB_CONCURRENCY
# The run and the import are the worker's work: run as the worker runs (nice, see
# docker-compose.yml), or at the web's priority with LOAD_WORKER_NICE=0.
WITH_JOBS = os.environ.get("LOAD_JOBS", "1") != "0"
WORKER_NICE = int(os.environ.get("LOAD_WORKER_NICE", 10))
WORKER = ["nice", "-n", str(WORKER_NICE)] if WORKER_NICE else []
CUSTOMERS_EACH = 250
RAMP_S = 15
DEFAULT_ROWS = 100_000
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")


def _url_for(database: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database}"))


def _admin():
    import psycopg

    params = connection.get_connection_params()
    params = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    return psycopg.connect(dbname="postgres", autocommit=True, **params)


def _copy(source: str, copy: str, say) -> None:
    connection.close()
    started = time.perf_counter()
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        try:
            admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')
        except Exception as error:
            raise CommandError(
                f"Could not copy {source}: {error}. Nothing else may be connected to it."
            ) from error
    say(f"copied {source} to {copy} in {time.perf_counter() - started:.1f} s")


def _drop(copy: str) -> None:
    connections.close_all()
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


def _session(user, key: str) -> str:
    """A signed-in session for user, as login() would leave it, under the server's key."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import override_settings

    with override_settings(SECRET_KEY=key):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key


def _cast(key: str) -> list[dict]:
    """The people, signed in: collectors each owning overdue customers, and managers."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.roles import COLLECTOR, MANAGER
    from dunning.models import QueueEntry
    from dunning.queue import queue_refresh
    from invoices.models import Customer

    User = get_user_model()
    overdue = list(
        QueueEntry.objects.order_by("?").values_list("customer_id", flat=True)[
            : COLLECTORS * CUSTOMERS_EACH
        ]
    )
    csrf = "".join(random.choices(string.ascii_letters + string.digits, k=32))
    cast = []
    for n in range(COLLECTORS):
        user = User.objects.create_user(username=f"load-collector-{n:02d}")
        user.groups.add(Group.objects.get(name=COLLECTOR))
        mine = overdue[n * CUSTOMERS_EACH : (n + 1) * CUSTOMERS_EACH]
        Customer.objects.filter(pk__in=mine).update(collector=user)
        cast.append(
            {
                "role": "collector",
                "session": _session(user, key),
                "csrf": csrf,
                "collector": user.pk,
                "customers": mine,
            }
        )
    queue_refresh(customer_ids=overdue)
    for n in range(MANAGERS):
        user = User.objects.create_user(username=f"load-manager-{n:02d}")
        user.groups.add(Group.objects.get(name=MANAGER))
        cast.append({"role": "manager", "session": _session(user, key), "csrf": csrf})
    return cast


def _without_the_run_schedule() -> None:
    from django_q.models import Schedule

    from dunning import schedule

    Schedule.objects.filter(func=schedule.FUNC).delete()


def _invoices_csv(path: Path, rows: int) -> None:
    from invoices.models import Customer

    customers = list(Customer.objects.order_by("?").values_list("external_id", "currency")[:20_000])
    rng, start = random.Random(7), date.today() - timedelta(days=90)
    with path.open("w", newline="") as file:
        out = csv.writer(file)
        out.writerow(["number", "customer_external_id", "issue_date", "due_date", "amount"])
        for n in range(rows):
            external_id, _currency = rng.choice(customers)
            issued = start + timedelta(days=rng.randrange(90))
            out.writerow(
                [
                    f"LOAD-{n:07d}",
                    external_id,
                    issued.isoformat(),
                    (issued + timedelta(days=30)).isoformat(),
                    f"{rng.randrange(1_000, 500_000) / 100:.2f}",
                ]
            )


def _engine_figures(since) -> dict:
    from dunning.models import Touch, TouchStatus

    counts = dict(
        Touch.objects.filter(created_at__gte=since).values_list("status").annotate(n=Count("id"))
    )
    return {
        "engine_planned": sum(counts.values()),
        "engine_sent": counts.get(TouchStatus.SENT, 0),
    }


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.5)
    raise CommandError(f"the server at {url} did not start")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stats(prefix: Path) -> dict[str, dict]:
    with open(f"{prefix}_stats.csv") as file:
        return {row["Name"]: row for row in csv.DictReader(file)}


def _slug(name: str) -> str:
    return name.replace(" ", "_").replace("-", "_")


def bench_load(*, rows: int = DEFAULT_ROWS, say=print) -> dict:
    if connection.vendor != "postgresql":
        raise CommandError("bench load needs the scale set on PostgreSQL: DATABASE_URL=postgres://")
    if not shutil.which("locust", path=str(BIN)):
        raise CommandError("bench load needs Locust: .venv/bin/pip install -e '.[load]'")
    source = connection.settings_dict["NAME"]
    copy = f"{source}_load"
    key = secrets.token_urlsafe(64)
    run_id = secrets.token_hex(4)
    work = Path(tempfile.mkdtemp(prefix="dunmore-load-"))
    env = {
        **os.environ,
        "DATABASE_URL": _url_for(copy),
        "DEBUG": "false",
        "SECRET_KEY": key,
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_URL": "dummymail://",
        "MEDIA_ROOT": str(work / "media"),
        "DJANGO_SETTINGS_MODULE": "collections_app.settings",
        # Redis as docker-compose gives it (cache and sessions), under keys of this run alone.
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": f"load-{run_id}",
        "Q_NAME": f"load-{run_id}",  # its own queue on that Redis
    }
    processes: list[subprocess.Popen] = []
    _copy(source, copy, say)
    try:
        connections["default"].settings_dict["NAME"] = copy
        cast = _cast(key)
        _without_the_run_schedule()
        (work / "cast.json").write_text(json.dumps(cast))
        _invoices_csv(work / "invoices.csv", rows)
        connection.close()
        say(f"{COLLECTORS} collectors and {MANAGERS} managers signed in; {rows:,} rows to import")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        # The image's own web entry (pooled connections), with gunicorn from this virtualenv.
        web = subprocess.Popen(
            ["sh", ROOT / "scripts" / "web.sh"],
            cwd=ROOT,
            env={
                **env,
                "PATH": f"{BIN}:{env.get('PATH', '')}",
                "HOME": str(work),  # gunicorn's control socket, apart from any other's
                "WEB_BIND": f"127.0.0.1:{port}",
                "WEB_CONCURRENCY": str(WEB_WORKERS),
            },
            stdout=(work / "web.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        processes.append(web)
        # The worker, as compose runs it beside the web (nice, on Redis): what writes queue
        # for it (stored months to refill after the import, aging to fold, credit holds)
        # happens as in production. The run itself is measured below, so its schedule is
        # taken out of the copy.
        if WITH_JOBS:
            processes.append(
                subprocess.Popen(
                    [*WORKER, sys.executable, "manage.py", "qcluster"],
                    cwd=ROOT,
                    env=env,
                    stdout=(work / "worker.log").open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_for(f"{base}/login/")
        people = COLLECTORS + MANAGERS
        load = subprocess.Popen(
            [
                BIN / "locust",
                "-f",
                ROOT / "loadtest" / "locustfile.py",
                "--headless",
                "-u",
                str(people),
                "-r",
                str(max(1, people // 10)),
                "-t",
                f"{SECONDS}s",
                "--host",
                base,
                "--csv",
                work / "load",
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**env, "LOAD_CAST": str(work / "cast.json")},
            stdout=(work / "locust.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        processes.append(load)
        say(f"{people} people working for {SECONDS} s; the run and the import start in {RAMP_S} s")
        time.sleep(RAMP_S)
        csv_path = work / "invoices.csv"
        jobs = {
            "engine_run": [*WORKER, sys.executable, "manage.py", "run_dunning", "--format", "json"],
            "import": [*WORKER, sys.executable, "manage.py", "import_csv", "invoices", csv_path],
        }
        if not WITH_JOBS:  # the people alone, as a baseline
            jobs = {}
        jobs_started = timezone.now()
        running = {
            name: (
                time.perf_counter(),
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=(work / f"{name}.log").open("w"),
                    stderr=subprocess.STDOUT,
                ),
            )
            for name, command in jobs.items()
        }
        processes += [job for _, job in running.values()]
        took = {}
        # The run sends each message it plans; a first run over a fresh scale set has a
        # backlog of tens of thousands, more than a load window: whatever is still sending
        # when the people stop is stopped (sending is safe to interrupt) and counted.
        while load.poll() is None or "import" in running:
            for name, (started, job) in list(running.items()):
                if job.poll() is not None:
                    took[name] = (time.perf_counter() - started, job.returncode)
                    say(f"{name} ended (exit {job.returncode}) after {took[name][0]:.1f} s")
                    del running[name]
            time.sleep(0.5)
        if "engine_run" in running:
            started, job = running.pop("engine_run")
            job.terminate()
            job.wait(timeout=60)
            took["engine_run"] = (time.perf_counter() - started, 0)
            say(f"engine_run stopped with the people, after {took['engine_run'][0]:.1f} s")
        connection.connect()
        engine = _engine_figures(jobs_started)
        connection.close()
        stats = _stats(work / "load")
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        _drop(copy)
        connections["default"].settings_dict["NAME"] = source
    for name, (_, code) in took.items():
        if code != 0:
            log = (work / f"{name}.log").read_text()[-2000:]
            raise CommandError(f"{name} failed (exit {code}); the end of its output:\n{log}")
    figures = {}
    for name, row in stats.items():
        label = "all" if name == "Aggregated" else _slug(name)
        say(
            f"{name:18} {row['Request Count']:>6} requests {row['Failure Count']:>4} failed   "
            f"p50 {row['50%']:>5} ms  p95 {row['95%']:>5} ms  p99 {row['99%']:>5} ms"
        )
        figures[f"{label}_requests"] = int(row["Request Count"])
        figures[f"{label}_errors"] = int(row["Failure Count"])
        for share in ("50", "95", "99"):
            figures[f"{label}_p{share}_ms"] = float(row[f"{share}%"])
    shutil.rmtree(work, ignore_errors=True)
    engine_s = took["engine_run"][0] if "engine_run" in took else 0
    return {
        **figures,
        **engine,
        "engine_sent_per_s": round(engine["engine_sent"] / engine_s, 1) if engine_s else 0,
        "people": COLLECTORS + MANAGERS,
        "web_workers": WEB_WORKERS,
        "worker_nice": WORKER_NICE,
        "load_s": SECONDS,
        "engine_run_s": round(engine_s, 1),
        "import_rows": rows if WITH_JOBS else 0,
        "import_s": round(took["import"][0], 1) if "import" in took else 0,
        "cpus": _cpus(),
    }
