import datetime as dt
import importlib
import io
import json
import logging

import pytest
from django_q.tasks import async_task

from ops.logs import ContextFilter, JsonFormatter
from ops.tests.test_healthz import schedules_due_in

pytestmark = pytest.mark.django_db

TASK_LOGGER = "ops.tests.task"


@pytest.fixture
def json_lines():
    """The production pipeline's handler (ContextFilter, JsonFormatter) on the root logger,
    writing to a buffer; returns a function that reads the lines logged so far."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


def request_lines(lines):
    return [line for line in lines if line["logger"] == "ops.requests"]


def test_a_sane_request_id_from_the_proxy_is_kept_and_echoed(client):
    response = client.get("/login/", headers={"X-Request-ID": "4f1c2a9e-77b0-4c1e-9a51-0d3e"})

    assert response["X-Request-ID"] == "4f1c2a9e-77b0-4c1e-9a51-0d3e"


@pytest.mark.parametrize(
    "bad", ["has spaces in it", "x" * 200, "<script>", 'quote"d', "new\\nline", ""]
)
def test_a_bad_or_missing_request_id_is_replaced_with_a_fresh_one(client, bad):
    headers = {"X-Request-ID": bad} if bad else {}

    response = client.get("/login/", headers=headers)

    assert response["X-Request-ID"] != bad
    assert len(response["X-Request-ID"]) == 32 and response["X-Request-ID"].isalnum()


def test_every_request_gets_its_own_id(client):
    first = client.get("/login/")["X-Request-ID"]
    second = client.get("/login/")["X-Request-ID"]

    assert first != second


def test_one_json_line_per_request_with_its_id_status_and_user(collector_client, json_lines):
    response = collector_client.get("/queue/?page=2", headers={"X-Request-ID": "req-123"})

    (line,) = request_lines(json_lines())
    assert line["request_id"] == "req-123"
    assert line["method"] == "GET"
    assert line["path"] == "/queue/"  # never the query string
    assert line["status"] == response.status_code == 200
    assert line["user_id"] == response.wsgi_request.user.pk
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


def test_an_anonymous_request_is_logged_without_a_user(client, json_lines):
    client.get("/login/")

    (line,) = request_lines(json_lines())
    assert line["user_id"] is None
    assert line["status"] == 200


def test_lines_written_during_a_request_carry_its_id(client, json_lines, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # a failing check logs why

    client.get("/healthz", headers={"X-Request-ID": "probe-7"})

    lines = json_lines()
    warning = next(line for line in lines if line["logger"] == "ops.health")
    assert warning["request_id"] == "probe-7"
    assert "exc" in warning  # the reason stays in the log
    assert request_lines(lines)[0]["status"] == 503


def test_djangos_own_line_about_a_refused_request_carries_its_id(client, json_lines):
    client.get("/no-such-page", headers={"X-Request-ID": "lost-1"})

    line = next(line for line in json_lines() if line["logger"] == "django.request")
    assert line["request_id"] == "lost-1"
    assert line["status_code"] == 404


def test_a_passing_health_probe_is_not_logged(client, json_lines):
    schedules_due_in(dt.timedelta(seconds=50))  # a worker running; nothing to chase
    assert client.get("/healthz").status_code == 200

    assert request_lines(json_lines()) == []


def test_a_line_logged_outside_any_request_has_no_request_id(json_lines):
    logging.getLogger("ops.tests").warning("on its own\nover two lines")

    (line,) = json_lines()
    assert "request_id" not in line
    assert line["message"] == "on its own\nover two lines"


def log_from_a_task():
    logging.getLogger(TASK_LOGGER).info("working")


def test_lines_written_by_a_task_carry_its_name(json_lines):
    async_task("ops.tests.test_logs.log_from_a_task", task_name="nightly-tidy")

    line = next(line for line in json_lines() if line["logger"] == TASK_LOGGER)
    assert line["task"] == "nightly-tidy"
    assert line["task_func"] == "ops.tests.test_logs.log_from_a_task"


def test_lines_after_the_task_no_longer_carry_it(json_lines):
    async_task("ops.tests.test_logs.log_from_a_task", task_name="nightly-tidy")
    logging.getLogger(TASK_LOGGER).info("after")

    after = [line for line in json_lines() if line["message"] == "after"]
    assert "task" not in after[0]


def test_production_logs_json_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    production = importlib.reload(importlib.import_module("collections_app.settings_production"))

    assert production.LOGGING["handlers"]["console"]["formatter"] == "json"
    assert production.LOGGING["handlers"]["console"]["filters"] == ["context"]
