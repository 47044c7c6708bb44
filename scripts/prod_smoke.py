"""The production smoke test's checks (scripts/prod_smoke.sh runs them), standard library
plus what the app itself installs (psycopg, redis).

    prod_smoke.py free-port
    prod_smoke.py createdb NAME | dropdb NAME         on the server of PG_ADMIN_URL
    prod_smoke.py redis-forget URL [PREFIX...]        PING, then delete the keys under each prefix
    prod_smoke.py web BASE HOST USERNAME PASSWORD     HTTPS redirect, login, Secure cookies
    prod_smoke.py healthz BASE HOST SECONDS           wait until every check passes

BASE is where gunicorn listens (http://127.0.0.1:PORT); HOST is the public host name. The
requests come as the reverse proxy would send them: to BASE, with Host: HOST,
X-Forwarded-Proto: https and X-Forwarded-For."""

import http.cookies
import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
CLIENT = "203.0.113.7"  # the browser's address, as the proxy reports it
PAGE = "/queue/"  # a page behind the login


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx comes back as an HTTPError, to be looked at


OPENER = urllib.request.build_opener(NoRedirect)


class Browser:
    """A browser behind the TLS proxy: it keeps cookies by hand, as http.cookiejar would
    not send Secure cookies over the plain HTTP between proxy and app."""

    def __init__(self, base: str, host: str):
        self.base, self.host = base, host
        self.cookies: dict[str, str] = {}
        self.insecure: set[str] = set()  # cookies set without the Secure flag

    def request(self, path: str, *, data: dict | None = None, https: bool = True):
        headers = {"Host": self.host, "X-Forwarded-For": CLIENT}
        if https:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Origin"] = f"https://{self.host}"
            headers["Referer"] = f"https://{self.host}{path}"
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            response = OPENER.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            text = response.read().decode("utf-8", "replace")
        for line in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(line).items():
                self.cookies[name] = morsel.value
                if not morsel["secure"]:
                    self.insecure.add(name)
        return response.status, response.headers, text


def fail(message: str) -> None:
    sys.exit(f"FAIL: {message}")


def web(base: str, host: str, username: str, password: str) -> None:
    browser = Browser(base, host)

    status, headers, _ = browser.request(PAGE, https=False)
    location = headers.get("Location", "")
    if status not in (301, 302) or not location.startswith(f"https://{host}/"):
        fail(f"plain HTTP {PAGE} answered {status} {location!r}, not a redirect to HTTPS")
    print(f"  plain HTTP redirects to {location}")

    status, headers, page = browser.request("/login/")
    if status != 200:
        fail(f"GET /login/ answered {status}")
    if "max-age=" not in headers.get("Strict-Transport-Security", ""):
        fail("the login page over HTTPS has no Strict-Transport-Security header")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not token or "csrftoken" not in browser.cookies:
        fail("the login page has no CSRF token and cookie")

    status, headers, _ = browser.request(
        f"/login/?next={PAGE}",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": username,
            "password": password,
        },
    )
    if status != 302 or "sessionid" not in browser.cookies:
        fail(f"logging in answered {status} without a session (CSRF or throttling refused it?)")

    status, _, page = browser.request(PAGE)
    if status != 200 or 'name="password"' in page:
        fail(f"GET {PAGE} after logging in answered {status}, or the login form")
    print(f"  logged in as {username} over HTTPS headers; {PAGE} answers 200")

    if browser.insecure:
        fail(f"cookies set without Secure: {', '.join(sorted(browser.insecure))}")
    print(f"  cookies are Secure: {', '.join(sorted(browser.cookies))}")


def healthz(base: str, host: str, seconds: float) -> None:
    """Polls /healthz over plain HTTP, as a load balancer does (exempt from the redirect)."""
    deadline = time.monotonic() + seconds
    browser = Browser(base, host)
    while True:
        status, _, body = browser.request("/healthz", https=False)
        try:
            answer = json.loads(body)
        except ValueError:
            answer = {"status": "fail", "body": body[:200]}
        if status == 200 and answer["status"] == "ok":
            break
        if time.monotonic() > deadline:
            fail(f"/healthz answered {status}: {json.dumps(answer)}")
        time.sleep(1)
    checks = answer["checks"]
    if checks["dunning_run"]["age_seconds"] is None or checks["dunning_run"]["age_seconds"] > 300:
        fail(f"/healthz does not show a recent dunning run: {json.dumps(checks)}")
    print(f"  /healthz 200: {json.dumps(checks)}")


def free_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        print(probe.getsockname()[1])


def database(action: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    if not re.fullmatch(r"[a-z0-9_]+", name):
        fail(f"unexpected database name {name!r}")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
        if action == "createdb":
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def redis_forget(url: str, *prefixes: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    client.ping()
    for prefix in prefixes:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)


def main(argv: list[str]) -> None:
    command, args = argv[0], argv[1:]
    if command == "free-port":
        free_port()
    elif command in ("createdb", "dropdb"):
        database(command, *args)
    elif command == "redis-forget":
        redis_forget(*args)
    elif command == "web":
        web(*args)
    elif command == "healthz":
        healthz(args[0], args[1], float(args[2]))
    else:
        fail(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
