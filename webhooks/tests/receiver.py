"""A real HTTP receiver on the loopback for the webhook tests: it answers each POST as told
(a status code, a status code with headers, or "hang" to sleep past the sender's timeout)
and keeps every request it got, whatever its method."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict
    body: bytes
    method: str = "POST"


@dataclass
class Receiver:
    url: str
    answers: list = field(default_factory=list)  # consumed one per request; then 200
    received: list = field(default_factory=list)


def start() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver(url="")
    stop_hanging = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            receiver.received.append(Received(headers, body, self.command))
            answer = receiver.answers.pop(0) if receiver.answers else 200
            if answer == "hang":
                stop_hanging.wait(5)
                return
            status, extra = answer if isinstance(answer, tuple) else (answer, {})
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(f"answered {status}".encode())

        do_GET = do_POST

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.stop_hanging = stop_hanging
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    time.sleep(0)
    return receiver, server
