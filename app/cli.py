"""The `leadsieve` command: run, seed-demo, create-admin, worker, sweep, db."""

from __future__ import annotations

import logging
import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from app import create_app
from app.db import session_scope


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def cli() -> None:
    """leadsieve: lead capture, screening and forwarding."""


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run_command(host: str, port: int) -> None:
    """Everything for local use: embedded Redis, migrations, demo, web and worker. Ctrl-C stops it all."""
    from app.launcher import run_all

    sys.exit(run_all(host=host, port=port))


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """The web process alone (development server; use gunicorn in production)."""
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), threaded=True)


@cli.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo forms and the first admin (only what is missing)."""
    from app.seed import ensure_admin, seed_demo

    base = current_app.config["PUBLIC_BASE_URL"]
    with session_scope() as session:
        for form in seed_demo(session):
            click.echo(f"{form.name}: {base}/f/{form.slug}")
        email, password = ensure_admin(session)
    if password:
        click.echo(f"Admin created: {email} / {password}  (shown once; reset with leadsieve create-admin)")
    else:
        click.echo(f"Admin exists: {email}")


@cli.command("create-admin")
@click.option("--email", required=True, help="Login e-mail of the admin.")
@click.option("--password", default=None, help="Password; generated and printed when omitted.")
@click.option("--role", type=click.Choice(["admin", "reviewer"]), default="admin", show_default=True)
@with_appcontext
def create_admin_command(email: str, password: str | None, role: str) -> None:
    """Create an admin (or reset their password)."""
    from app.users import set_user

    with session_scope() as session:
        user, password_used, created = set_user(session, email=email, password=password, role=role)
    verb = "Created" if created else "Reset password for"
    shown = "" if password else f" / {password_used}"
    click.echo(f"{verb} {user.role} {user.email}{shown}")


@cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker_command(burst: bool) -> None:
    """An RQ worker on the screening and delivery queues, with the sweeper."""
    import worker

    sys.exit(worker.main(burst=burst))


@cli.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Re-enqueue submissions stuck in `received`."""
    from app.sweep import sweep

    with session_scope() as session:
        count = sweep(session, older_than_seconds=current_app.config["SWEEP_AFTER_SECONDS"])
    click.echo(f"re-enqueued {count} submission(s)")


@cli.group("db")
def db_group() -> None:
    """Schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Upgrade the schema (default: to head)."""
    from app.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION ('base' removes every table)."""
    from app.migrate import downgrade

    downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL") or "INFO",
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    cli.main(prog_name="leadsieve")
