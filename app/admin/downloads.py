"""CSV downloads that are never a cut file looking whole: written first, then sent with their size."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from typing import IO

from flask import Response

from app.models import utcnow

# The file is written here first: in memory up to this size, then on disk, so memory stays flat.
SPOOL_BYTES = 1024 * 1024
SEND_BYTES = 256 * 1024


def _sent(spool: IO[bytes]) -> Iterator[bytes]:
    """The written file in blocks; closed (and so deleted) when sent, or when the download stops."""
    try:
        while block := spool.read(SEND_BYTES):
            yield block
    finally:
        spool.close()


def csv_download(write: Callable[[IO[str]], int], stem: str) -> Response:
    """The CSV `write` produces (it returns the rows written), as an attachment.

    The whole file is written before the first byte is sent (to a temporary file: memory stays flat), so it
    goes out with its Content-Length and its row count (X-Export-Rows, and in the file name): a download cut
    short for any reason is shown as failed by the browser, and a finished one can be checked."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed once sent)
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        rows = write(text)
        text.flush()
        text.detach()
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    name = f"leadsieve-{stem}-{utcnow():%Y-%m-%d}-{rows}-rows.csv"
    return Response(
        _sent(spool),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={name}",
            "Content-Length": str(size),
            "X-Export-Rows": str(rows),
            "Cache-Control": "no-store",
        },
    )
