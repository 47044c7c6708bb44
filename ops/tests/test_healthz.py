import datetime as dt
import importlib
import os
import uuid

import pytest
from django.test import override_settings
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.signing import SignedPackage
from django_q.status import Status

from dunning import schedule as dunning_schedule
from dunning.models import Run
from invoices.tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db

REDIS = "redis://127.0.0.1:6379/15"
# Nothing listens on port 1: the connection is refused at once.
NO_REDIS = "redis://127.0.0.1:1/0"


def dunning_run_finished(ago: dt.timedelta, *, success: bool = True) -> Run:
    """What the scheduled run records when it ends."""
    finished = timezone.now() - ago
    return Run.objects.create(
        started_at=finished - dt.timedelta(seconds=20),
        finished_at=finished,
        succeeded=success,
        touches=3 if success else 0,
        error="" if success else "RuntimeError: boom",
    )


def schedules_due_in(delta: dt.timedelta) -> None:
    """Where the worker's scheduler leaves the schedules: next runs in the future while it
    runs, overdue once it has stopped."""
    dunning_schedule.schedule_ensure()
    Schedule.objects.update(next_run=timezone.now() + delta)


@pytest.fixture
def healthy(db):
    InvoiceFactory()
    schedules_due_in(dt.timedelta(seconds=50))
    dunning_run_finished(dt.timedelta(minutes=10))


def test_all_checks_pass_with_a_running_worker_and_a_recent_run(client, healthy):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"ok": True},
            "broker": {"ok": True},
            "worker": {"ok": True, "age_seconds": 0},
            "dunning_run": {"ok": True, "age_seconds": pytest.approx(600, abs=5)},
        },
    }


def test_it_needs_no_login_and_is_never_cached(client, healthy):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


def test_a_worker_whose_schedules_are_overdue_fails(client, healthy):
    schedules_due_in(-dt.timedelta(minutes=10))

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["worker"] == {"ok": False, "age_seconds": pytest.approx(600, abs=5)}
    assert body["checks"]["database"]["ok"] and body["checks"]["dunning_run"]["ok"]


def test_a_worker_a_little_late_is_still_fine(client, healthy, settings):
    settings.HEALTHZ_WORKER_MAX_AGE = 120
    schedules_due_in(-dt.timedelta(seconds=60))

    assert client.get("/healthz").status_code == 200


def test_a_dunning_run_older_than_the_limit_fails(client, healthy, settings):
    settings.HEALTHZ_RUN_MAX_AGE = 26
    Run.objects.all().delete()
    dunning_run_finished(dt.timedelta(hours=27))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["dunning_run"] == {
        "ok": False,
        "age_seconds": pytest.approx(27 * 3600, abs=5),
    }


def test_a_failed_run_does_not_count_as_a_run(client, healthy):
    Run.objects.all().delete()
    dunning_run_finished(dt.timedelta(hours=30))
    dunning_run_finished(dt.timedelta(minutes=5), success=False)

    body = client.get("/healthz").json()

    assert body["checks"]["dunning_run"]["ok"] is False
    assert body["checks"]["dunning_run"]["age_seconds"] == pytest.approx(30 * 3600, abs=5)


def test_no_run_yet_with_invoices_to_chase_fails(client, healthy):
    Run.objects.all().delete()

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["dunning_run"] == {"ok": False, "age_seconds": None}


def test_no_run_yet_on_a_new_installation_without_invoices_is_fine(client, db):
    schedules_due_in(dt.timedelta(seconds=50))

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"]["dunning_run"] == {"ok": True, "age_seconds": None}


def test_an_unreachable_redis_fails_the_broker_and_the_worker(client, healthy, settings):
    settings.REDIS_URL = NO_REDIS

    response = client.get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"] == {"ok": False}
    assert checks["worker"] == {"ok": False, "age_seconds": None}
    assert checks["database"] == {"ok": True}


def test_a_failing_check_tells_nothing_of_why(client, healthy, settings):
    settings.REDIS_URL = NO_REDIS

    text = client.get("/healthz").content.decode()

    assert "127.0.0.1" not in text and "redis" not in text.lower()
    assert "refused" not in text.lower() and "Error" not in text


@pytest.fixture
def redis_url(settings):
    import redis

    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.REDIS_URL = REDIS
    yield REDIS
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(f"{Conf.Q_STAT}:*"):
        client.delete(key)


def cluster_reports(url: str, *, ago: dt.timedelta = dt.timedelta(0)) -> None:
    """What a running cluster writes to Redis every half second (django_q Stat.save)."""
    import redis

    status = Status(pid=os.getpid(), cluster_id=uuid.uuid4())
    status.timestamp = timezone.now() - ago
    key = f"{Conf.Q_STAT}:{status.cluster_id}"
    redis.Redis.from_url(url).set(key, SignedPackage.dumps(status, True), ex=3)


def test_with_redis_a_cluster_reporting_there_is_a_live_worker(client, healthy, redis_url):
    schedules_due_in(-dt.timedelta(hours=1))  # ignored with Redis: its reports count
    cluster_reports(redis_url)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"]["worker"] == {"ok": True, "age_seconds": 0}


def test_with_redis_and_no_cluster_reporting_the_worker_fails(client, healthy, redis_url):
    response = client.get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"] == {"ok": True}
    assert checks["worker"] == {"ok": False, "age_seconds": None}


def test_production_lets_a_load_balancer_probe_it_over_plain_http(client, healthy):
    production = importlib.import_module("collections_app.settings_production")

    with override_settings(
        SECURE_SSL_REDIRECT=True, SECURE_REDIRECT_EXEMPT=production.SECURE_REDIRECT_EXEMPT
    ):
        probe = client.get("/healthz")
        page = client.get("/login/")

    assert probe.status_code == 200
    assert page.status_code == 301 and page.url.startswith("https://")


def test_only_reading_is_allowed(client, healthy):
    assert client.post("/healthz").status_code == 405
