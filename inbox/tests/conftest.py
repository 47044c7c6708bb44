"""A real IMAP server (pymap) on the loopback, for the inbox's polling tests."""

import socket
import subprocess
import sys
import time

import pytest
from imap_tools import MailBoxUnencrypted


@pytest.fixture
def imap_server():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    pymap = [sys.prefix + "/bin/pymap", "--host", "127.0.0.1", "--port", str(port), "--no-tls"]
    process = subprocess.Popen(
        [*pymap, "dict", "--demo-user", "u", "--demo-password", "p"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def imap_append(imap_server):
    """Put raw messages in the test server's INBOX, unseen."""

    def append(*raws: bytes) -> None:
        with MailBoxUnencrypted("127.0.0.1", imap_server).login("u", "p", "INBOX") as box:
            for raw in raws:
                box.append(raw, "INBOX", flag_set=[])

    return append


@pytest.fixture
def imap_args(imap_server):
    return dict(
        host="127.0.0.1", port=imap_server, user="u", password="p", folder="INBOX", ssl=False
    )
