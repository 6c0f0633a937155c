"""Migration 0023 on a database with forms and submissions: every form gets no translations, every
submission English (their pages were English), and the way back keeps the rows."""

from __future__ import annotations

from sqlalchemy import MetaData, Table, insert, select

from app.db import make_engine
from app.runtime.migrations import downgrade, upgrade
from tests.runtime.test_migration_leads_list import filled
from tests.runtime.test_migrations import empty_database_url  # noqa: F401  (the fixture)


def test_existing_forms_and_submissions_are_converted(empty_database_url):  # noqa: F811
    upgrade(empty_database_url, "0022")
    engine = make_engine(empty_database_url)
    meta = MetaData()
    forms, submissions = (Table(name, meta, autoload_with=engine) for name in ("forms", "submissions"))
    with engine.begin() as connection:
        form_id = connection.execute(
            insert(forms).values(filled(forms, slug="f", name="F", kind="demo", settings={}))
        ).inserted_primary_key[0]
        connection.execute(insert(submissions).values(filled(submissions, form_id=form_id, email="a@acme.com")))
    engine.dispose()

    upgrade(empty_database_url, "0023")
    engine = make_engine(empty_database_url)
    meta = MetaData()
    forms, submissions = (Table(name, meta, autoload_with=engine) for name in ("forms", "submissions"))
    with engine.connect() as connection:
        assert connection.execute(select(forms.c.translations)).scalars().all() == [{}]
        assert connection.execute(select(submissions.c.language, submissions.c.email)).all() == [("en", "a@acme.com")]
    engine.dispose()

    downgrade(empty_database_url, "0022")
    engine = make_engine(empty_database_url)
    with engine.connect() as connection:
        columns = Table("submissions", MetaData(), autoload_with=connection).columns
        assert "language" not in columns and connection.execute(select(columns.email)).scalars().all() == ["a@acme.com"]
    engine.dispose()
