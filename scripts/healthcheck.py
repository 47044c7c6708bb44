"""The web container's health check (docker-compose.yml), run inside it: passes while the
app answers /healthz and reaches its database. The worker's and the last run's checks are
left to alerting: a web process is no less healthy for a stopped worker.

    python scripts/healthcheck.py [URL]      (default http://127.0.0.1:8000/healthz)

The request carries the first of ALLOWED_HOSTS as its host name, or Django refuses it."""

import json
import os
import sys
import urllib.error
import urllib.request

url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/healthz"
first_host = os.environ.get("ALLOWED_HOSTS", "").split(",")[0].strip()
# "*" and ".example.com" are patterns; "example.com" matches the latter.
host = first_host.lstrip("*.") or "localhost"
request = urllib.request.Request(url, headers={"Host": host})
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
except urllib.error.HTTPError as error:  # 503: a check failed; the database may still be fine
    body = error.read()
sys.exit(0 if json.loads(body)["checks"]["database"]["ok"] else 1)
