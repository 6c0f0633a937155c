"""The schema changes only through Alembic: migrations and models must agree."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from app.db import make_engine
from app.models import Base
from app.runtime.migrations import downgrade, upgrade


def test_models_and_migrations_agree(database_url):
    """Autogenerate against the migrated test database finds nothing to do."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database of the same kind as the suite's."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"leadsieve_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_upgrade_from_empty_then_downgrade_to_base(empty_database_url):
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    downgrade(empty_database_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_database_url)  # and back up again, cleanly
    assert {t.name for t in Base.metadata.sorted_tables} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_0002_upgrades_a_database_that_already_has_rows(empty_database_url):
    """New NOT NULL columns get defaults for rows written before them."""
    upgrade(empty_database_url, "0001")
    engine = make_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO leads (email, stage, created_at, updated_at) VALUES ('a@acme.com', 'MQL', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO destinations (name, kind, target, secret, options, active, created_at) VALUES "
                "('hook', 'webhook', 'https://crm.example/hook', 's', '{}', true, CURRENT_TIMESTAMP)"
            )
        )
    upgrade(empty_database_url)
    with engine.connect() as connection:
        lead = connection.execute(text("SELECT stage, score, company FROM leads")).one()
        stages = connection.execute(text("SELECT stages FROM destinations")).scalar()
    engine.dispose()
    assert tuple(lead) == ("MQL", 0, "")
    assert stages in ([], "[]")
