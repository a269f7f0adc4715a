"""A real SMTP server for tests (aiosmtpd on 127.0.0.1) that keeps what it receives; it can be stopped and
started again on the same port to play an outage. Use the `smtp_server` fixture (import it into the test
module)."""
from __future__ import annotations

import email
import socket
import threading
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

#: recipients at this domain are refused for good (550), like a mailbox that does not exist
REFUSED_DOMAIN = "refused.test"


class _Handler:
    def __init__(self, server: MailServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.server.received(envelope.rcpt_tos, envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


class MailServer:
    """An SMTP server on 127.0.0.1 that stores each accepted message, parsed, in `messages`."""

    host = "127.0.0.1"

    def __init__(self):
        self.port = _free_port()
        self.messages: list[EmailMessage] = []
        #: the envelope recipients of each message, in the same order
        self.envelopes: list[list[str]] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:  # a stopped controller's loop is closed: each start takes a new one
            controller = Controller(_Handler(self), hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self, recipients: list[str], content: bytes) -> None:
        message = email.message_from_bytes(content, policy=default_policy)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append(list(recipients))

    def message_ids(self) -> list[str]:
        with self._lock:
            return [m["Message-ID"] for m in self.messages]


def _free_port() -> int:
    # aiosmtpd cannot listen on port 0 (it connects to its own port once started), so ask the OS for one
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    server = MailServer()
    server.start()
    yield server
    server.stop()
