"""SMTP PIPELINING (RFC 2920): one round trip per message instead of four.

Without it every message costs four round trips: MAIL FROM, RCPT TO, DATA
and the content, each written and then waited for. A server that offers
PIPELINING (Postfix, Exchange Online, Gmail do) takes commands in groups and
answers them in order. A group may begin with the content of the message
before (its closing "." counts as a command) and must end with DATA, whose 354
the client has to wait for before it sends the content. So each write holds
the previous message's content and the next message's MAIL FROM, RCPT TO and
DATA, and one read brings the four replies.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable
from typing import TYPE_CHECKING

from .addresses import plain_address

if TYPE_CHECKING:
    from .sending import Ready

#: a line that begins with a period: doubled on the wire, as `smtplib.SMTP.data` does (RFC 5321 4.5.2)
_LEADING_PERIOD = re.compile(rb"(?m)^\.")


def dot_stuffed(data: bytes) -> bytes:
    """The message's content as DATA sends it: periods doubled, a CRLF at the end, then the closing "."."""
    quoted = _LEADING_PERIOD.sub(b"..", data)
    if quoted[-2:] != b"\r\n":
        quoted += b"\r\n"
    return quoted + b".\r\n"


def offers_pipelining(host: smtplib.SMTP | None) -> bool:
    """Whether the server said PIPELINING in its EHLO answer (None: nothing goes out at all)."""
    return host is not None and host.does_esmtp and host.has_extn("pipelining")


class Pipeline:
    """The SMTP exchange of a batch over a server that offers PIPELINING.

    `send(sender, item)` writes, in one go, the content of the message whose
    DATA the server last answered with 354 (`open`) and `item`'s MAIL FROM,
    RCPT TO and DATA; it then reads the replies in order. Each row's outcome
    goes to `settle(item, error)` as soon as its replies are in: None when the
    server answered 250 to the row's own ".", else the refusal (an
    `smtplib.SMTPResponseException` or `SMTPRecipientsRefused`, as
    `sendmail` raises them), or the exception a bug in this row raised before
    anything was written. `finish()` sends the open row's content alone and
    settles it: call it at the end of a batch and before any command outside
    the pipeline.

    After a refused MAIL FROM or RCPT TO the server refuses the DATA as well;
    one that answers 354 anyway gets a lone "." (RFC 2920 3.1) and the row
    stays refused. After any refusal of MAIL FROM, RCPT TO or DATA the
    transaction is reset (RSET) before the next row. A 421 or a
    connection that breaks raises `SMTPServerDisconnected` (an OSError from
    the socket becomes one in smtplib): the open row and `item` are then not
    settled, and the caller tries them again later.

    Messages that need SMTPUTF8 and addresses that are not plain (`takes`)
    stay outside the pipeline, with smtplib's own `sendmail`.
    """

    def __init__(self, host: smtplib.SMTP, settle: Callable[[Ready, BaseException | None], None]):
        self.host = host
        self.settle = settle
        self.size = host.has_extn("size")
        #: the row whose DATA was answered 354: its content goes with the next write
        self.open: Ready | None = None
        #: its content, dot-stuffed and closed with "."
        self.content = b""

    @staticmethod
    def takes(sender: str, item: Ready) -> bool:
        """Whether the message can go in the pipeline: plain ASCII addresses, no SMTPUTF8."""
        return not item.smtputf8 and plain_address(sender) and plain_address(item.recipient)

    def send(self, sender: str, item: Ready) -> None:
        """Send the open row's content and `item`'s commands in one write; settle what the replies decide."""
        try:
            size = f" SIZE={len(item.data)}" if self.size else ""
            commands = f"MAIL FROM:<{sender}>{size}\r\nRCPT TO:<{item.recipient}>\r\nDATA\r\n".encode("ascii")
            content = dot_stuffed(item.data)
        except Exception as error:  # this row's bug: nothing written, the others go on
            self.settle(item, error)
            return
        self.host.send(self.content + commands)
        self._settle_open()
        replies = [self._reply() for _ in range(3)]
        refusal = _refusal(sender, item.recipient, *replies)
        if refusal is None:
            self.open, self.content = item, content
            return
        if replies[2][0] == 354:  # a server that took DATA without a recipient: end the message empty
            self.host.send(b".\r\n")
            self._reply()
        self._reset()
        self.settle(item, refusal)

    def finish(self) -> None:
        """Send the open row's content on its own and settle the row."""
        if self.open is not None:
            self.host.send(self.content)
            self._settle_open()

    def _settle_open(self) -> None:
        """Read the reply to the open row's "." and settle the row."""
        if self.open is None:
            return
        code, text = self._reply()
        item, self.open, self.content = self.open, None, b""
        # The "." ends the transaction whatever the reply; the next row's commands are already on their way.
        self.settle(item, None if code == 250 else smtplib.SMTPDataError(code, text))

    def _reply(self) -> tuple[int, bytes]:
        """The next reply; a 421 closes the connection, as `sendmail` does, and raises."""
        code, text = self.host.getreply()
        if code == 421:
            self.host.close()
            raise smtplib.SMTPServerDisconnected(f"{code} {text.decode('utf-8', errors='replace')}")
        return code, text

    def _reset(self) -> None:
        """RSET after a refusal; a connection lost on the way shows at the next write."""
        try:
            self.host.rset()
        except smtplib.SMTPServerDisconnected:
            pass


def _refusal(sender: str, recipient: str, mail, rcpt, data) -> smtplib.SMTPException | None:
    """The first refusal among the replies to MAIL FROM, RCPT TO and DATA, as `sendmail` raises it."""
    if mail[0] != 250:
        return smtplib.SMTPSenderRefused(*mail, sender)
    if rcpt[0] not in (250, 251):
        return smtplib.SMTPRecipientsRefused({recipient: rcpt})
    if data[0] != 354:
        return smtplib.SMTPDataError(*data)
    return None
