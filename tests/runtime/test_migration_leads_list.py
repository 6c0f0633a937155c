"""Migration 0019 gives leads written before it the last activity and engagement order key they would have
had, so the people list sorts old and new leads alike."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, Table, insert, select

from app.db import make_engine
from app.runtime.migrations import upgrade
from screening.ranking import NO_ENGAGEMENT, engagement_key
from tests.runtime.test_migrations import empty_database_url  # noqa: F401  (the fixture)

T0 = datetime(2026, 6, 1, 12, 0)


def filled(table: Table, **values: Any) -> dict[str, Any]:
    """`values` plus a plain value for every other NOT NULL column without a server default."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None or column.primary_key:
            continue
        kind = column.type
        row[column.name] = (
            T0
            if isinstance(kind, DateTime)
            else False
            if isinstance(kind, Boolean)
            else 0
            if isinstance(kind, Integer)
            else {}
            if isinstance(kind, JSON)
            else ""
        )
    return row


def test_existing_leads_get_their_last_activity_and_engagement_key(empty_database_url):  # noqa: F811
    upgrade(empty_database_url, "0018")
    engine = make_engine(empty_database_url)
    meta = MetaData()
    forms, leads, submissions, feedback = (
        Table(name, meta, autoload_with=engine) for name in ("forms", "leads", "submissions", "lead_feedback")
    )
    stored = {
        "fit": [],
        "engagement": [{"rule": "fill.demo", "points": 25, "base": 25, "at": "2026-05-01T12:00:00"}],
        "half_life_days": 30.0,
    }
    with engine.begin() as connection:
        form_id = connection.execute(
            insert(forms).values(filled(forms, slug="f", name="F", kind="demo"))
        ).inserted_primary_key[0]
        ids = {}
        for email, breakdown in (("fed@a.com", stored), ("filled@a.com", {}), ("new@a.com", {})):
            row = filled(leads, email=email, stage="MQL", created_at=T0, updated_at=T0, score_breakdown=breakdown)
            ids[email] = connection.execute(insert(leads).values(row)).inserted_primary_key[0]
        for email, day in (("fed@a.com", 2), ("filled@a.com", 3), ("filled@a.com", 9)):
            connection.execute(
                insert(submissions).values(
                    filled(
                        submissions, form_id=form_id, lead_id=ids[email], email=email, received_at=T0.replace(day=day)
                    )
                )
            )
        connection.execute(
            insert(feedback).values(filled(feedback, lead_id=ids["fed@a.com"], outcome="won", at=T0.replace(day=20)))
        )
    upgrade(empty_database_url, "0019")
    meta = MetaData()
    leads = Table("leads", meta, autoload_with=engine)
    with engine.connect() as connection:
        found = {row.email: row for row in connection.execute(select(leads))}
    engine.dispose()
    assert found["fed@a.com"].last_activity_at == T0.replace(day=20)  # sales' feedback came last
    assert found["filled@a.com"].last_activity_at == T0.replace(day=9)  # its latest submission
    assert found["new@a.com"].last_activity_at == T0  # nothing yet: when it was created
    assert found["fed@a.com"].engagement_key == engagement_key(json.loads(json.dumps(stored)))
    assert found["filled@a.com"].engagement_key == NO_ENGAGEMENT
