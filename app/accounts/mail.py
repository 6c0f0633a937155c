"""The password-reset e-mail, sent the way lead e-mails are: over SMTP_URL, or written as an .eml file
into the file outbox (`file://…`, the development default) when nothing is to be sent.

Nothing submitted reaches its headers: the recipient is an account's address (checked against the
lead e-mails' strict address pattern), the subject is fixed. Plain text only: a link and two sentences.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from tempfile import NamedTemporaryFile

from app.forwarding.adapters.email import EmailConfigError, outbox_dir, parse_smtp_url, valid_address

log = logging.getLogger(__name__)

SUBJECT = "Reset your leadsieve password"


class MailError(RuntimeError):
    """The e-mail could not be sent or written; the message says why (for the log)."""


@dataclass(frozen=True)
class MailSettings:
    """SMTP_URL, SMTP_FROM and the time-out, as plain values (sending runs after the request)."""

    smtp_url: str
    sender: str
    timeout: float = 10.0


def reset_message(*, to: str, sender: str, link: str, minutes: int) -> EmailMessage:
    """The reset e-mail; MailError if an address is not a plain one."""
    if not valid_address(to) or not valid_address(sender):
        raise MailError(f"not a plain address: {to!r} or {sender!r}")
    msg = EmailMessage()
    msg["Subject"] = SUBJECT
    msg["From"] = Address(display_name="leadsieve", addr_spec=sender)
    msg["To"] = to
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    body = (
        "Someone (we hope you) asked to reset the password of your leadsieve account.\n\n"
        f"Set a new password here (the link works once, for {minutes} minutes):\n\n{link}\n\n"
        "Setting it signs you out everywhere. If you did not ask, ignore this e-mail: "
        "your password stays as it is.\n"
    )
    # 7bit keeps the link whole in the raw message (quoted-printable would fold it with `=`), so it
    # can be copied from an outbox file too; the body is ASCII unless PUBLIC_BASE_URL is not.
    msg.set_content(body, cte="7bit" if body.isascii() else "quoted-printable")
    return msg


def send_mail(msg: EmailMessage, settings: MailSettings) -> str:
    """Send over SMTP_URL, or write `reset-<random>.eml` into the file outbox; returns where it went."""
    try:
        outbox = outbox_dir(settings.smtp_url)
        if outbox is not None:
            return str(_write(outbox, msg))
        server = parse_smtp_url(settings.smtp_url)
    except EmailConfigError as exc:
        raise MailError(str(exc)) from exc
    data = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    try:
        client: smtplib.SMTP
        if server.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=settings.timeout)
        with client:
            if server.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if server.username:
                client.login(server.username, server.password)
            client.sendmail(settings.sender, [str(msg["To"])], data)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP {type(exc).__name__}: {exc}") from exc
    return f"{server.host}:{server.port}"


def _write(outbox: Path, msg: EmailMessage) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"reset-{secrets.token_hex(8)}.eml"
    with NamedTemporaryFile("wb", dir=outbox, prefix=".reset-", suffix=".tmp", delete=False) as tmp:
        tmp.write(msg.as_bytes(policy=msg.policy.clone(linesep="\n")))
    os.replace(tmp.name, path)
    return path


def send_quietly(msg: EmailMessage, settings: MailSettings) -> None:
    """Send after the answer has gone: the visitor must learn nothing from how long it took, so a
    failure is only logged (the form always answers the same)."""
    try:
        where = send_mail(msg, settings)
    except MailError as exc:
        log.warning("password-reset e-mail to %s not sent: %s", msg["To"], exc)
        return
    log.info("password-reset e-mail to %s sent (%s)", msg["To"], where)
