"""A development mail server: keeps every message as an .eml file and logs it.

`make run` starts it, so that without any configuration a person can read every
e-mail the app sent, under instance/mail/.
"""

from __future__ import annotations

import logging
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from pathlib import Path

from aiosmtpd.controller import Controller

from ..database import utcnow

log = logging.getLogger(__name__)


class EmlSink:
    """An aiosmtpd handler that writes each message to a directory."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{self.count:05d}.eml"
        path.write_bytes(envelope.content)
        message = message_from_bytes(envelope.content, policy=policy.default)
        subject = str(make_header(decode_header(message.get("Subject", ""))))
        log.info("mail to %s: %s (%s)", ", ".join(envelope.rcpt_tos), subject, path)
        return "250 Message accepted for delivery"


def start_sink(directory: str | Path, host: str, port: int) -> Controller:
    """Start the sink in a background thread; the caller stops it."""
    controller = Controller(EmlSink(directory), hostname=host, port=port)
    controller.start()
    return controller
