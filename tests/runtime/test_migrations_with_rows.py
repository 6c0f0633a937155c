"""Upgrading an installed database that holds data: every table has a row, and all of them survive.

SQLite alters a table by copying it and dropping the old one, which a referencing row forbids while
foreign keys are enforced; this test is what catches that, on both databases the suite runs on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, MetaData, String, Text, func, insert, select, text

from app.db import make_engine
from app.runtime.migrations import upgrade
from tests.runtime.test_migrations import empty_database_url  # noqa: F401  (the fixture)

# The newest revision of the previous release: what an existing install is at when it upgrades.
RELEASED = "0015"
# Bookkeeping a migration may clear on purpose: 0022 empties it so the next sweep recounts the rollups.
RECOMPUTED = {"rollup_state"}


def _value(column: Any, row_id: int) -> Any:
    """A plausible value for a NOT NULL column without a default."""
    kind = column.type
    if column.foreign_keys:
        return 1
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return row_id
    if isinstance(kind, DateTime):
        return dt.datetime(2026, 11, 30, 12, 0)
    if isinstance(kind, Date):
        return dt.date(2026, 11, 30)
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, String | Text):
        length = getattr(kind, "length", None) or 40
        return f"{column.name}-{row_id}"[:length]
    raise AssertionError(f"no sample value for {column.table.name}.{column.name} ({kind!r})")


def _fill_every_table(url: str) -> dict[str, int]:
    """One row in each table of the schema as it is, parents first; returns the count per table."""
    engine = make_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    counts = {}
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            own_id = [c for c in table.primary_key.columns if isinstance(c.type, Integer)]
            serial = own_id[0] if len(table.primary_key.columns) == 1 and own_id else None
            row = {
                column.name: _value(column, 1)
                for column in table.columns
                if column is not serial and not column.nullable and column.server_default is None
            }
            connection.execute(insert(table).values(**row))
            counts[table.name] = 1
    engine.dispose()
    return counts


def test_an_installed_database_with_rows_in_every_table_upgrades_to_head(empty_database_url):  # noqa: F811
    upgrade(empty_database_url, RELEASED)
    before = _fill_every_table(empty_database_url)
    assert {"leads", "submissions", "forms", "deliveries"} <= before.keys()

    upgrade(empty_database_url)

    engine = make_engine(empty_database_url)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        after = {
            name: connection.execute(select(func.count()).select_from(metadata.tables[name])).scalar_one()
            for name in before
        }
        if engine.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
    assert {k: v for k, v in after.items() if k not in RECOMPUTED} == {
        k: v for k, v in before.items() if k not in RECOMPUTED
    }
