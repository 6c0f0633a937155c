"""The leadsieve command: seed-demo and create-admin reuse what exists."""

from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.cli import cli
from app.models import Form, User


def test_seed_demo_twice_creates_nothing_new(app, db_session):
    runner = app.test_cli_runner()
    first = runner.invoke(cli, ["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Admin created: admin@example.com / " in first.output
    assert "/f/request-demo" in first.output
    forms = db_session.scalar(select(func.count()).select_from(Form))
    second = runner.invoke(cli, ["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "Admin exists: admin@example.com" in second.output
    assert "Admin created" not in second.output
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Form)) == forms
    assert db_session.scalar(select(func.count()).select_from(User)) == 1


def test_create_admin_generates_then_resets(app, db_session):
    runner = app.test_cli_runner()
    created = runner.invoke(cli, ["create-admin", "--email", "Anna@Example.com"])
    assert created.exit_code == 0, created.output
    password = created.output.strip().rsplit(" / ", 1)[1]
    user = db_session.scalars(select(User)).one()
    assert user.email == "anna@example.com"
    assert check_password_hash(user.password_hash, password)
    assert password not in user.password_hash

    reset = runner.invoke(cli, ["create-admin", "--email", "anna@example.com", "--password", "a long new secret"])
    assert reset.exit_code == 0 and "Reset password for admin anna@example.com" in reset.output
    assert "a long new secret" not in reset.output
    db_session.expire_all()
    assert check_password_hash(db_session.scalars(select(User)).one().password_hash, "a long new secret")
    assert db_session.scalar(select(func.count()).select_from(User)) == 1
