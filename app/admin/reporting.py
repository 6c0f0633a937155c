"""The loop reported (app/reporting/loop.py): per form and per utm source, submissions to won, sales'
rejections by reason and the time to first touch, for a period; and the same as CSV."""

from __future__ import annotations

import csv
import io

from flask import Response, render_template, request

from app.admin.blueprint import bp
from app.db import get_session
from app.reporting.dashboard import period
from app.reporting.export import safe_cells
from app.reporting.loop import CSV_HEADER, REASONS, STEPS, csv_rows, duration, report


@bp.get("/reporting")
def reporting() -> str:
    """The loop for the chosen days (default: the last 30)."""
    start, end = period(request.args.get("since"), request.args.get("until"))
    return render_template(
        "admin/reporting.html",
        data=report(get_session(), start, end),
        steps=[label for label, _, _ in STEPS],
        reasons=[label for _, label in REASONS],
        duration=duration,
    )


@bp.get("/reporting.csv")
def reporting_csv() -> Response:
    """The same figures as CSV: the total, each form, each source (names made safe against formulas)."""
    start, end = period(request.args.get("since"), request.args.get("until"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows(safe_cells(row) for row in csv_rows(report(get_session(), start, end)))
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="leadsieve-loop-{start}-to-{end}.csv"',
            "Cache-Control": "no-store",
        },
    )
