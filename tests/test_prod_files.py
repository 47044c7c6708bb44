"""The production smoke test (scripts/prod_smoke.sh) proves something only while it starts
what the image and docker-compose.yml start: these tests fail when the files drift apart.
Also: the web container's health check, and .env.example listing every setting."""

import json
import re
import shlex
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SMOKE = (ROOT / "scripts" / "prod_smoke.sh").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, its arguments) with continuation lines joined, comments left out."""
    instructions, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        keyword, _, arguments = current.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ENV":
            env.update(token.split("=", 1) for token in shlex.split(arguments))
    return env


def smoke_exports() -> dict[str, str]:
    """What the smoke script exports: `export KEY=VALUE` lines."""
    exports = {}
    for line in SMOKE.splitlines():
        if line.startswith("export ") and "=" in line:
            key, value = shlex.split(line[len("export ") :])[0].split("=", 1)
            exports[key] = value
    return exports


def smoke_runs(command: list[str]) -> bool:
    """Whether the smoke script runs this command (python being the virtualenv's "$PY")."""
    words = ['"$PY"' if word == "python" else shlex.quote(word) for word in command]
    return " ".join(words) in SMOKE


def test_the_image_and_the_smoke_test_start_the_web_server_with_one_script():
    cmd = [json.loads(args) for keyword, args in dockerfile_instructions() if keyword == "CMD"]
    assert cmd == [["sh", "scripts/web.sh"]]
    assert re.search(r"^HOME=\S+ WEB_BIND=\S+ scripts/web\.sh ", SMOKE, re.MULTILINE)
    web = (ROOT / "scripts" / "web.sh").read_text()
    assert "exec gunicorn collections_app.wsgi:application" in web


def test_the_smoke_test_collects_static_files_as_the_image_is_built():
    build_steps = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    collect = [
        re.search(r"python (manage\.py collectstatic[^&]*?)\s*(&&|$)", step) for step in build_steps
    ]
    found = [match.group(1) for match in collect if match]
    assert found == ["manage.py collectstatic --noinput --verbosity 0"]
    assert smoke_runs(["python", *found[0].split()])


@pytest.mark.parametrize("service", ["migrate", "worker"])
def test_the_smoke_test_runs_the_command_of_each_compose_service(service):
    assert smoke_runs(COMPOSE["services"][service]["command"])


def test_the_smoke_test_starts_every_service_compose_starts():
    declared = re.search(r'^SERVICES="([^"]+)"', SMOKE, re.MULTILINE).group(1).split()
    assert sorted(declared) == sorted(COMPOSE["services"])


def test_the_smoke_test_sets_the_variables_the_image_and_compose_set():
    exports = smoke_exports()
    compose_env = COMPOSE["x-app"]["environment"]
    assert set(compose_env) <= set(exports)
    assert exports["DJANGO_SETTINGS_MODULE"] == compose_env["DJANGO_SETTINGS_MODULE"]
    image_env = dockerfile_env()
    for key in ("DJANGO_SETTINGS_MODULE", "FORWARDED_ALLOW_IPS", "WEB_CONCURRENCY"):
        assert exports[key] == image_env[key], key
    assert "MEDIA_ROOT" in image_env and "MEDIA_ROOT" in exports


def test_the_web_containers_health_check_is_the_one_the_smoke_test_passes():
    check = COMPOSE["services"]["web"]["healthcheck"]["test"]
    assert check == ["CMD", "python", "scripts/healthcheck.py"]
    assert '"$PY" scripts/healthcheck.py "$BASE/healthz"' in SMOKE


def test_env_example_lists_every_setting_read_from_the_environment():
    settings = "".join(
        (ROOT / "collections_app" / name).read_text()
        for name in ("settings.py", "settings_production.py")
    )
    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings))
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert names, "no settings found: the pattern no longer matches settings.py"
    assert sorted(names - listed) == []


# --- The health check itself, against a stand-in for the app on the loopback ---------------


class FakeHealthz(BaseHTTPRequestHandler):
    answers: list[tuple[int, dict]] = []
    hosts: list[str] = []

    def do_GET(self):
        status, body = self.answers[0]
        self.hosts.append(self.headers["Host"])
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def app():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHealthz)
    FakeHealthz.hosts.clear()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/healthz"
    server.shutdown()
    server.server_close()


def run_check(url: str, allowed_hosts: str) -> int:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "healthcheck.py"), url],
        env={"ALLOWED_HOSTS": allowed_hosts, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        timeout=30,
    ).returncode


def health(database_ok: bool, worker_ok: bool) -> dict:
    return {
        "status": "ok" if database_ok and worker_ok else "fail",
        "checks": {
            "database": {"ok": database_ok},
            "broker": {"ok": True},
            "worker": {"ok": worker_ok, "age_seconds": 0 if worker_ok else None},
            "dunning_run": {"ok": True, "age_seconds": 60},
        },
    }


def test_the_health_check_passes_while_the_database_answers_even_with_the_worker_down(app):
    FakeHealthz.answers[:] = [(503, health(database_ok=True, worker_ok=False))]
    assert run_check(app, "collections.example.com,localhost") == 0
    assert FakeHealthz.hosts == ["collections.example.com"]


def test_the_health_check_fails_when_the_database_does_not_answer(app):
    FakeHealthz.answers[:] = [(503, health(database_ok=False, worker_ok=True))]
    assert run_check(app, "collections.example.com") != 0


def test_the_health_check_sends_a_host_name_that_a_wildcard_allows(app):
    FakeHealthz.answers[:] = [(200, health(database_ok=True, worker_ok=True))]
    assert run_check(app, ".example.com") == 0
    assert run_check(app, "*") == 0
    assert FakeHealthz.hosts == ["example.com", "localhost"]
