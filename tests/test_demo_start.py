"""`make demo`'s last step, scripts/serve.sh, as someone trying Dunmore meets it: on a seeded
database it starts the web server and the worker, prints the address and the logins last and
keeps them on screen, writes the demo's mail to files, and stops everything within seconds on
Ctrl-C or a kill of its process group."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from dunning.tests.smtp_peer import free_port
from invoices.demo import DEMO_USERS

ROOT = Path(settings.BASE_DIR)
BANNER_END = "Press Ctrl-C to stop."
STOP_WITHIN = 10  # seconds


def _env(tmp: Path, db: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "collections_app.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{db}",
        "MEDIA_ROOT": str(tmp / "media"),
        "DEMO_DIR": str(tmp / "demo"),
        "PY": sys.executable,
        "Q_WORKERS": "1",
    }
    for name in ("EMAIL_URL", "SITE_URL", "ESP", "REDIS_URL"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> tuple[Path, Path]:
    """A small demo database, loaded as make demo loads it."""
    tmp = tmp_path_factory.mktemp("demo")
    db = tmp / "demo.sqlite3"
    for command in (
        ["migrate", "--noinput", "--verbosity", "0"],
        ["seed_demo", "--customers", "20", "--no-logins"],
        ["seed_demo_history"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=_env(tmp, db),
            check=True,
            capture_output=True,
            timeout=300,
        )
    return tmp, db


def _signals_at_default():
    # A shell starting jobs without job control makes them ignore SIGINT, and a script
    # cannot trap a signal ignored from its start; a terminal's Ctrl-C finds it at default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Demo:
    """serve.sh in a session of its own, as make demo would run it from a terminal."""

    def __init__(self, tmp: Path, db: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.out = tmp / f"terminal-{self.port}.txt"
        self.demo_dir = tmp / "demo"
        with open(self.out, "w") as terminal:
            self.process = subprocess.Popen(
                ["scripts/serve.sh"],
                cwd=ROOT,
                env={**_env(tmp, db), "ADDR": f"127.0.0.1:{self.port}"},
                stdout=terminal,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_signals_at_default,
            )

    @property
    def terminal(self) -> str:
        return self.out.read_text()

    def wait_for_banner(self, limit: float = 120) -> str:
        deadline = time.monotonic() + limit
        while BANNER_END not in self.terminal:
            assert self.process.poll() is None, self.terminal
            assert time.monotonic() < deadline, self.terminal
            time.sleep(0.2)
        return self.terminal

    def processes(self) -> list[int]:
        """Every process of the demo's session: the script, the server, the worker and
        the worker's own processes (its process group is a separate one)."""
        self.process.poll()  # a finished script is reaped, not counted
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getsid(int(entry)) == self.process.pid:
                        found.append(int(entry))
                except OSError:
                    pass  # gone meanwhile
        return found

    def worker_environment(self) -> dict:
        for pid in self.processes():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"qcluster" in command:
                    raw = Path(f"/proc/{pid}/environ").read_bytes()
                    return dict(item.split("=", 1) for item in raw.decode().split("\0") if item)
            except OSError:
                continue
        raise AssertionError("no worker process found")

    def stop(self, sig: signal.Signals) -> float:
        """Signal the whole process group, as Ctrl-C or kill -- -PGID does; how long until
        every process of the demo is gone."""
        started = time.monotonic()
        os.killpg(self.process.pid, sig)
        while self.processes() and time.monotonic() - started < 60:
            time.sleep(0.1)
        return time.monotonic() - started

    def kill_what_is_left(self) -> None:
        for pid in self.processes():
            with contextlib.suppress(OSError):  # gone meanwhile
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def demo(seeded):
    started = Demo(*seeded)
    yield started
    started.kill_what_is_left()


@pytest.mark.slow
def test_it_prints_the_address_and_the_logins_last_and_keeps_them_on_screen(demo):
    terminal = demo.wait_for_banner()
    with urllib.request.urlopen(demo.url, timeout=10) as page:
        answer = page.status, page.read().decode()
    time.sleep(1)  # a request logged to the terminal would show by now

    assert answer[0] == 200
    assert "Log in to Dunmore" in answer[1]
    assert demo.terminal == terminal
    banner = terminal[terminal.rindex("Dunmore is running at") :]
    assert banner.startswith(f"Dunmore is running at {demo.url}")
    for user in DEMO_USERS:
        assert f"{user.username} / {user.password}" in banner
    assert terminal.rstrip().endswith("=" * 64)
    assert "GET / HTTP/1.1" in (demo.demo_dir / "web.log").read_text()


@pytest.mark.slow
def test_its_mail_goes_to_files_and_its_links_follow_the_address_it_listens_on(demo):
    terminal = demo.wait_for_banner()
    worker = demo.worker_environment()

    assert worker["SITE_URL"] == f"http://127.0.0.1:{demo.port}"
    assert worker["EMAIL_URL"] == f"filemail:///{demo.demo_dir}/mail"
    assert (demo.demo_dir / "mail").is_dir()
    assert f"Emails the demo sends are written to {demo.demo_dir}/mail/" in terminal


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "group-kill"])
def test_it_stops_the_web_server_and_the_worker_within_seconds(demo, sig):
    demo.wait_for_banner()
    assert len(demo.processes()) >= 4  # the script, the server, the worker and its pool

    took = demo.stop(sig)

    assert demo.processes() == []
    assert took < STOP_WITHIN
    assert demo.terminal.rstrip().endswith("Stopped the web server and the worker.")


def test_mail_written_to_files_lands_in_the_project_folder_wherever_the_worker_starts(tmp_path):
    settings_seen = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.EMAIL_BACKEND); "
            "print(settings.EMAIL_FILE_PATH)",
        ],
        cwd=tmp_path,
        env={
            **_env(tmp_path, tmp_path / "unused.sqlite3"),
            "PYTHONPATH": str(ROOT),
            "EMAIL_URL": "filemail:///var/demo/mail",
        },
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()

    assert settings_seen == [
        "django.core.mail.backends.filebased.EmailBackend",
        str(ROOT / "var" / "demo" / "mail"),
    ]
