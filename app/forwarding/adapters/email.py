"""E-mail to a sales or marketing inbox over SMTP_URL: plain text plus an HTML alternative.

`SMTP_URL=file:///some/dir` (the development default, `instance/outbox/`) sends nothing: each
message is written to that directory as `lead-<idempotency key>.eml`, so a local demo reaches an
"inbox" any mail client opens, and a retry rewrites the same file instead of adding a second one.

No header injection, whatever the Python version:
- Submitted text (the lead's name and company, in Subject and Reply-To) is cleaned by `header_text`
  (one line, no control characters, the encoded-word opener `=?` spaced out), then written wholly as
  RFC 2047 encoded words by `encoded_words` and stored raw, so the e-mail package never parses it.
  Its parser decodes encoded words, and before Python 3.11.10 / 3.12.5 (CVE-2024-6923) its folder
  wrote a CR or LF decoded from `=?utf-8?q?=0A?=` into the header as a real line break.
- Recipients and the lead's address must match a strict address pattern.
- `serialise` reads the bytes back before they are sent or written: unless they carry exactly the
  headers that were set, with the values they were given and no line break, the message is refused
  (`UnsafeMessage`: a permanent failure, recorded on the delivery). What was checked is what goes out.

The HTML alternative is rendered from `templates/email/lead.html` (autoescaped) by a Jinja
environment of its own: adapters run without Flask (the worker's jobs and the admin's test sends
both call them with plain values).
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderDefect, HeaderParseError, MessageError
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import format_datetime
from pathlib import Path
from tempfile import NamedTemporaryFile
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.forwarding.adapters import text
from app.forwarding.adapters.types import AttemptResult, DeliverySettings, DestinationSpec

# Deliberately stricter than RFC 5322: no quoted local parts, no comments, no display names.
ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
SMTP_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}

log = logging.getLogger(__name__)

TEMPLATES = Environment(
    loader=PackageLoader("app", "templates"),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
    undefined=StrictUndefined,
)
SPECIALS = re.compile(r'[()<>@,;:\\".\[\]]')  # RFC 5322 specials: in a display name they need quoting
MAX_LINE = 78  # what email.policy folds to; a longer raw header would be folded again by the package
HEADER_NAME = re.compile(rb"([!-9;-~]+):")  # a header field's name: printable ASCII but the colon


class EmailConfigError(ValueError):
    """SMTP_URL or the destination's addresses cannot be used."""


class UnsafeMessage(ValueError):
    """The serialised message does not have exactly the headers that were set: refused, never sent."""


@dataclass(frozen=True)
class SmtpServer:
    """A parsed SMTP_URL."""

    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = ""


def parse_smtp_url(url: str) -> SmtpServer:
    """smtp://[user:pass@]host[:port], smtp+starttls://… (port 587) or smtps://… (implicit TLS, 465)."""
    if not url:
        raise EmailConfigError("SMTP_URL is not set; e-mail destinations cannot send")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EmailConfigError(f"SMTP_URL is not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in SMTP_SCHEMES or not parts.hostname:
        raise EmailConfigError(
            "SMTP_URL must look like smtp://host:25, smtp+starttls://host:587, "
            "smtps://host:465 or file:///directory/for/eml/files"
        )
    return SmtpServer(
        scheme=scheme,
        host=parts.hostname,
        port=port or SMTP_SCHEMES[scheme],
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def outbox_dir(url: str) -> Path | None:
    """The directory of a `file:///…` SMTP_URL (write .eml files, send nothing), else None."""
    parts = urlsplit(url or "")
    if parts.scheme.lower() != "file":
        return None
    path = unquote(parts.path)
    if parts.netloc not in ("", "localhost") or not path.startswith("/"):
        raise EmailConfigError("a file SMTP_URL must name an absolute directory, e.g. file:///srv/leadsieve/outbox")
    return Path(path)


def eml_path(directory: Path, idempotency_key: str, *, prefix: str = "lead") -> Path:
    """Where the outbox keeps one delivery's message: `lead-<key>.eml` (erasure finds it here too);
    a visitor's confirmation is `visitor-<key>.eml`."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", idempotency_key)[:100] or "unkeyed"
    return directory / f"{prefix}-{name}.eml"


def write_eml(directory: Path, data: bytes, *, idempotency_key: str, prefix: str = "lead") -> Path:
    """Write the serialised message as `<prefix>-<key>.eml` (atomically; a retry replaces the same file); its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = eml_path(directory, idempotency_key, prefix=prefix)
    with NamedTemporaryFile("wb", dir=directory, prefix=f".{prefix}-", suffix=".tmp", delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)
    return path


def valid_address(address: str) -> bool:
    """True for a plain addr-spec such as sales@example.com (nothing that could smuggle a header).

    `=?` is refused too: the pattern allows both characters, and the e-mail package would read
    `=?utf-8?q?…?=` in a local part as an encoded word and decode it."""
    return bool(ADDRESS.fullmatch(address)) and "=?" not in address


def parse_recipients(target: str) -> list[str]:
    """The comma-separated addresses of an e-mail destination; EmailConfigError names a bad one."""
    recipients = [item.strip() for item in (target or "").split(",") if item.strip()]
    if not recipients:
        raise EmailConfigError("an e-mail destination needs at least one address")
    for address in recipients:
        if not valid_address(address):
            raise EmailConfigError(f"not a valid recipient address: {text.one_line(address, 100)!r}")
    return recipients


def message_id(idempotency_key: str, sender: str) -> str:
    """A Message-ID derived from the idempotency key, so every retry of one delivery carries the same one."""
    key = re.sub(r"[^A-Za-z0-9.-]", "", idempotency_key)[:64] or "lead"
    domain = sender.rsplit("@", 1)[-1] if valid_address(sender) else "leadsieve.invalid"
    return f"<lead-{key}@{domain}>"


def html_body(payload: dict[str, Any]) -> str:
    """The HTML alternative, rendered from `email/lead.html` (autoescaped)."""
    feedback_url = payload.get("feedback_url")
    return TEMPLATES.get_template("email/lead.html").render(
        headline=text.headline(payload),
        rows=text.details(payload),
        message=text.message(payload),
        feedback_url=feedback_url if text.is_web_url(feedback_url) else "",
    )


def header_text(value: Any, limit: int = 200) -> str:
    """Submitted text for a header: one line, and `=?` spaced out to `= ?` so that no reader decoding
    RFC 2047 encoded words (ours, a mail client, a relay) takes any part of it for one."""
    return text.one_line(value, limit).replace("=?", "= ?")


def display_name(value: Any) -> str:
    """A name for an address header: `header_text` with RFC 5322 specials spaced out, at most 64 characters.

    Encoded, the specials would be safe in our header, but some readers decode a display name and
    then parse it again ("Splitting the email atom"): `x, evil@example.net` must not become an address."""
    return " ".join(SPECIALS.sub(" ", header_text(value, 64)).split())


def encoded_words(name: str, value: str) -> str:
    """`value` wholly as RFC 2047 encoded words (UTF-8), folded into lines that fit after `name: `.

    Every character is encoded, so none of the value reads as header syntax (a line break, an
    encoded word of its own, an address). Store it with `Message.set_raw`: assigning it would
    decode it and fold it again with the e-mail package's folder, whose bugs CVE-2024-6923 (before
    Python 3.11.10 / 3.12.5) and mangled long non-ASCII subjects (3.11) come from."""
    return Header(value, "utf-8", header_name=name).encode(linesep="\n")


def reply_to(payload: dict[str, Any]) -> str | None:
    """The lead as a raw Reply-To value, `=?utf-8?q?Name?= <address>`; None when the address is not a plain one."""
    lead_email = text.one_line(payload.get("email"), 320)
    if not valid_address(lead_email):
        return None
    try:
        Address(addr_spec=lead_email)
    except HeaderDefect:  # e.g. "a..b@example.com": matches the pattern, not RFC 5322; the body still has it
        return None
    full_name = text.full_name(payload)
    name = display_name(full_name) if full_name != lead_email else ""
    angle_addr = f"<{lead_email}>"
    if not name or len(angle_addr) + 1 > MAX_LINE:  # no room beside a name: the address alone
        return angle_addr
    phrase = encoded_words("Reply-To", name)
    last = phrase.rsplit("\n", 1)[-1] if "\n" in phrase else f"Reply-To: {phrase}"
    return phrase + (" " if len(last) + 1 + len(angle_addr) <= MAX_LINE else "\n ") + angle_addr


def build_message(payload: dict[str, Any], *, recipients: list[str], sender: str, idempotency_key: str) -> EmailMessage:
    """The EmailMessage for one lead; submitted text reaches headers only as `encoded_words`."""
    sender = text.one_line(sender, 320)
    if not valid_address(sender):
        raise EmailConfigError(f"SMTP_FROM is not a plain address: {sender!r}")
    try:
        from_ = Address(display_name="leadsieve", addr_spec=sender)
    except HeaderDefect as exc:  # e.g. "a..b@example.com"
        raise EmailConfigError(f"SMTP_FROM is not a plain address: {sender!r}") from exc
    msg = EmailMessage()
    msg.set_raw("Subject", encoded_words("Subject", header_text(text.headline(payload))))
    msg["From"] = from_
    msg["To"] = ", ".join(recipients)
    if (lead := reply_to(payload)) is not None:
        msg.set_raw("Reply-To", lead)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id(idempotency_key, sender)
    msg["X-Leadsieve-Idempotency-Key"] = header_text(idempotency_key, 100)
    msg.set_content(text.headline(payload) + "\n\n" + text.plain_text(payload))
    msg.add_alternative(html_body(payload), subtype="html")
    return msg


def serialise(
    msg: EmailMessage,
    *,
    recipients: list[str],
    linesep: str = "\r\n",
    parts: Sequence[str] = ("text/plain", "text/html"),
) -> bytes:
    """The message as bytes with `linesep` line ends, once they are checked to carry exactly its headers.

    The bytes are read back, raw and with the e-mail parser: one line per header that was set, plus
    folded continuation lines; no other header (a Bcc, say) and no bare CR or LF; every header with
    the value it was given and no line break in it; To naming exactly `recipients`; the body where
    it was (its top-level `parts`). UnsafeMessage says what differs."""
    try:
        data = msg.as_bytes(policy=msg.policy.clone(linesep=linesep))
    except HeaderParseError as exc:  # the package's own check for a header folded into two
        raise UnsafeMessage(f"the message cannot be written: {exc}") from exc
    sep = linesep.encode()
    names = [name.lower() for name in msg.keys()]
    head, blank, _ = data.partition(sep + sep)
    if not blank:
        raise UnsafeMessage("no blank line between the headers and the body")
    starts = []
    for line in head.split(sep):
        if b"\r" in line or b"\n" in line:
            raise UnsafeMessage("a header holds a bare CR or LF")
        if line[:1] in (b" ", b"\t"):
            continue
        if not (found := HEADER_NAME.match(line)):
            raise UnsafeMessage(f"a header line is not a header: {text.one_line(line[:60])!r}")
        starts.append(found.group(1).decode("ascii").lower())
    if starts != names:
        raise UnsafeMessage(f"the headers written {starts} are not the headers set {names}")
    try:
        built = _headers(msg)
        parsed = BytesParser(policy=default_policy).parsebytes(data)
        read, to = _headers(parsed), [a.addr_spec for a in parsed["To"].addresses]
        found_parts = [part.get_content_type() for part in parsed.iter_parts()]
    except (AttributeError, IndexError, KeyError, TypeError, ValueError, MessageError) as exc:
        # The parser's own bugs on odd input (3.11 raises AttributeError on some address groups):
        # a message that cannot be read back is not sent.
        raise UnsafeMessage(f"the message cannot be read back: {type(exc).__name__}: {exc}") from exc
    if [name for name, _ in read] != names:
        raise UnsafeMessage(f"the headers read back {[name for name, _ in read]} are not the headers set {names}")
    for (name, value), (_, again) in zip(built, read, strict=True):
        if "\r" in again or "\n" in again:
            raise UnsafeMessage(f"the {name} header reads back with a line break")
        if again != value:
            raise UnsafeMessage(f"the {name} header reads back as something else than was set")
    if to != recipients:
        raise UnsafeMessage("To reads back with other recipients than the destination's")
    if found_parts != list(parts):
        raise UnsafeMessage(f"the body does not read back as {', '.join(parts)}")
    return data


def _headers(msg: EmailMessage) -> list[tuple[str, str]]:
    """(lower-case name, decoded value) of each header; a value folded onto the next line reads back
    with a leading space, hence the strip."""
    return [(name.lower(), str(value).strip()) for name, value in msg.items()]


def _smtp_error(exc: smtplib.SMTPResponseException) -> str:
    reply = exc.smtp_error
    reply = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"SMTP {exc.smtp_code} {text.one_line(reply, 300)}"


def send(
    spec: DestinationSpec, payload: dict[str, Any], *, idempotency_key: str, settings: DeliverySettings
) -> AttemptResult:
    """Send the lead to the destination's addresses (or write it to the file:// outbox); 4xx SMTP
    replies and network errors are retryable."""
    start = time.perf_counter()
    try:
        outbox = outbox_dir(settings.smtp_url)
        if outbox is None:
            parse_smtp_url(settings.smtp_url)  # a missing or bad SMTP_URL is said before anything else
        recipients = parse_recipients(spec.target)
        msg = build_message(payload, recipients=recipients, sender=settings.smtp_from, idempotency_key=idempotency_key)
        # The outbox keeps what the development default always wrote (LF); SMTP needs CRLF.
        data = serialise(msg, recipients=recipients, linesep="\n" if outbox is not None else "\r\n")
    except EmailConfigError as exc:
        return AttemptResult(ok=False, error=str(exc), retryable=False)
    except UnsafeMessage as exc:
        log.warning("e-mail for delivery key %s refused: %s", idempotency_key, exc)
        return AttemptResult(
            ok=False,
            error=f"refused to send: the e-mail's headers did not survive serialisation intact ({exc})",
            retryable=False,
        )
    return transmit(data, recipients=recipients, settings=settings, idempotency_key=idempotency_key, start=start)


def transmit(
    data: bytes,
    *,
    recipients: list[str],
    settings: DeliverySettings,
    idempotency_key: str,
    outbox_prefix: str = "lead",
    start: float | None = None,
) -> AttemptResult:
    """Send bytes `serialise` checked over SMTP_URL, or write them to the file:// outbox as
    `<outbox_prefix>-<key>.eml`; 4xx SMTP replies and network errors are retryable."""
    began = time.perf_counter() if start is None else start
    elapsed = lambda: int((time.perf_counter() - began) * 1000)  # noqa: E731
    try:
        outbox = outbox_dir(settings.smtp_url)
        server = None if outbox is not None else parse_smtp_url(settings.smtp_url)
    except EmailConfigError as exc:
        return AttemptResult(ok=False, error=str(exc), retryable=False)
    if outbox is not None:
        return _write_to_outbox(
            outbox, data, recipients=recipients, idempotency_key=idempotency_key, prefix=outbox_prefix, elapsed=elapsed
        )
    assert server is not None
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
            # The very bytes serialise() checked; send_message() would serialise the message again.
            refused = client.sendmail(text.one_line(settings.smtp_from, 320), recipients, data)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        return AttemptResult(
            ok=False,
            status_code=max(codes, default=None),
            latency_ms=elapsed(),
            error=f"all recipients refused: {text.one_line(exc.recipients, 300)}",
            retryable=any(400 <= code < 500 for code in codes),
        )
    except smtplib.SMTPResponseException as exc:
        return AttemptResult(
            ok=False,
            status_code=exc.smtp_code,
            latency_ms=elapsed(),
            error=_smtp_error(exc),
            retryable=not 500 <= exc.smtp_code < 600,
        )
    except TimeoutError:
        return AttemptResult(
            ok=False, error=f"SMTP timed out after {settings.timeout:g} s", retryable=True, latency_ms=elapsed()
        )
    except (OSError, smtplib.SMTPException) as exc:
        return AttemptResult(ok=False, error=f"SMTP {type(exc).__name__}: {exc}", retryable=True, latency_ms=elapsed())
    excerpt = f"accepted for {len(recipients) - len(refused)} of {len(recipients)} recipient(s)"
    if refused:
        excerpt += f"; refused: {text.one_line(refused, 300)}"
    return AttemptResult(ok=True, status_code=250, latency_ms=elapsed(), response_excerpt=excerpt)


def _write_to_outbox(
    outbox: Path,
    data: bytes,
    *,
    recipients: list[str],
    idempotency_key: str,
    prefix: str,
    elapsed: Callable[[], int],
) -> AttemptResult:
    """The local "inbox" of SMTP_URL=file://…: delivered once the .eml file is on disk."""
    try:
        path = write_eml(outbox, data, idempotency_key=idempotency_key, prefix=prefix)
    except OSError as exc:  # a full disk or a permission problem may be fixed: retry
        return AttemptResult(
            ok=False, error=f"could not write to the outbox {outbox}: {exc}", retryable=True, latency_ms=elapsed()
        )
    log.info("e-mail to %s written to %s (SMTP_URL is a file outbox: nothing was sent)", ", ".join(recipients), path)
    return AttemptResult(ok=True, latency_ms=elapsed(), response_excerpt=f"written to {path}")
