"""A real SMTP server on the loopback for delivery tests and fault drills, which can be
told to misbehave: refuse, take a message and never answer, or not greet at all.

Every message whose whole body arrived is kept in `received`, answered or not: a server
that took the body may deliver it even if its answer was lost, so a drill counts it."""

import asyncio
import email
import socket
import threading
import time
from dataclasses import dataclass

from aiosmtpd.controller import Controller

ACCEPT = "accept"
REFUSE = "refuse"  # 451 to every message: certainly not taken
HOLD = "hold"  # take the body, answer only when released (or never)


@dataclass
class Received:
    message_id: str
    to: str
    subject: str
    answered: bool = False


class _Handler:
    def __init__(self, peer: "SMTPPeer"):
        self.peer = peer

    async def handle_DATA(self, server, session, envelope):
        if self.peer.mode == REFUSE:
            return "451 4.3.0 Please try again later"
        parsed = email.message_from_bytes(envelope.content)
        record = Received(
            message_id=(parsed["Message-ID"] or "").strip(),
            to=",".join(envelope.rcpt_tos),
            subject=str(parsed["Subject"] or ""),
        )
        with self.peer.lock:
            self.peer.received.append(record)
            hold = self.peer.mode == HOLD or (
                self.peer.hold_after is not None and len(self.peer.received) > self.peer.hold_after
            )
        if hold:
            while not self.peer.release.is_set():
                await asyncio.sleep(0.02)
        record.answered = True
        return "250 2.0.0 Accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPPeer:
    """aiosmtpd on 127.0.0.1, in a thread of its own."""

    def __init__(self):
        self.received: list[Received] = []
        self.mode = ACCEPT
        self.hold_after: int | None = None  # answer this many, then hold the rest
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> "SMTPPeer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 30) -> None:
        """Until `count` message bodies have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.received)} of {count} messages arrived")
            time.sleep(0.02)

    def behave(self, mode: str = ACCEPT, *, hold_after: int | None = None) -> None:
        self.mode = mode
        self.hold_after = hold_after
        if mode == HOLD or hold_after is not None:
            self.release.clear()
        else:
            self.release.set()


class SilentServer:
    """Accepts connections and never says a word: no greeting, no answer."""

    def __init__(self):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port = self._socket.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> "SilentServer":
        self._thread.start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            self._held.append(conn)

    def stop(self) -> None:
        self._socket.close()
        for conn in self._held:
            conn.close()
