"""The `leadsieve` command: run, seed-demo, create-admin, users, worker, sweep, screen, db, model, tokens."""

from __future__ import annotations

import logging
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from app import create_app
from app.db import session_scope


@click.group(
    cls=FlaskGroup,
    create_app=lambda: create_app(),
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
def cli() -> None:
    """leadsieve: lead capture, screening and forwarding."""


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run_command(host: str, port: int) -> None:
    """Everything for local use: embedded Redis, migrations, demo, web and worker. Ctrl-C stops it all."""
    from app.runtime.launcher import run_all

    sys.exit(run_all(host=host, port=port))


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """The web process alone (development server; use gunicorn in production)."""
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]


@cli.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo forms and the first admin (only what is missing)."""
    from app.runtime.seed import ensure_admin, seed_demo

    base = current_app.config["PUBLIC_BASE_URL"]
    with session_scope() as session:
        for form in seed_demo(session):
            click.echo(f"{form.name}: {base}/f/{form.slug}")
        email, password = ensure_admin(session)
        session.commit()
    if password:
        click.echo(f"Admin created: {email} / {password}  (shown once; reset with leadsieve create-admin)")
    else:
        click.echo(f"Admin exists: {email}")


@cli.command("create-admin")
@click.option("--email", required=True, help="Login e-mail of the admin.")
@click.option("--password", default=None, help="Password; generated and printed when omitted.")
@click.option(
    "--role",
    type=click.Choice(["admin", "reviewer"]),
    default=None,
    help="Role of a new user (default admin), or the new role of an existing one.",
)
@with_appcontext
def create_admin_command(email: str, password: str | None, role: str | None) -> None:
    """Create a user, or change an existing one: --role sets the role, --password the password (a new
    one is generated when neither is given). Either change ends the user's sessions."""
    from app.accounts.users import AccountError, apply_user

    with session_scope() as session:
        try:
            done = apply_user(session, email=email, password=password, role=role)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
    user = done.user
    shown = f" / {done.password}" if done.password and not password else ""
    if done.created:
        click.echo(f"Created {user.role} {user.email}{shown}")
        return
    if done.role_changed:
        click.echo(f"Changed the role of {user.email} to {user.role}; their sessions ended")
    elif role is not None:
        click.echo(f"{user.email} is already {user.role}")
    if done.password:
        click.echo(f"Reset password for {user.role} {user.email}{shown}; their sessions ended")


@cli.group("users")
def users_group() -> None:
    """Admin users: list, roles, deactivation, signing out, reset links."""


def _change_user(email: str, change: str) -> str:
    """Apply one users-command change as `cli` (audited) and commit; the message to print."""
    from app.accounts import users

    with session_scope() as session:
        try:
            user = users.user_by_email(session, email)
            if change == "deactivate":
                changed = users.set_active(session, user=user, active=False, actor="cli")
                message = f"{user.email} deactivated; their sessions ended" if changed else f"{user.email} is inactive"
            elif change == "activate":
                changed = users.set_active(session, user=user, active=True, actor="cli")
                message = f"{user.email} is active again" if changed else f"{user.email} is active"
            elif change == "sign-out":
                ended = users.sign_out_everywhere(session, user=user, actor="cli")
                message = f"{user.email} signed out everywhere ({ended} session(s) ended)"
            else:
                changed = users.set_role(session, user=user, role=change, actor="cli")
                message = (
                    f"{user.email} is now {user.role}; their sessions ended"
                    if changed
                    else f"{user.email} is already {user.role}"
                )
        except users.AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
    return message


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """One line per user: e-mail, role, active, two-factor, last sign-in (UTC)."""
    from app.accounts.users import list_users

    with session_scope() as session:
        for user in list_users(session):
            last = user.last_login_at.strftime("%Y-%m-%dT%H:%M:%SZ") if user.last_login_at else "never"
            state = "active" if user.active else "inactive"
            two_factor = "2fa" if user.totp_enabled else "-"
            click.echo(f"{user.email}\t{user.role}\t{state}\t{two_factor}\tlast sign-in {last}")


@users_group.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(["admin", "reviewer"]))
@with_appcontext
def users_set_role(email: str, role: str) -> None:
    """Give EMAIL the ROLE; their sessions end so it applies at once."""
    click.echo(_change_user(email, role))


@users_group.command("deactivate")
@click.argument("email")
@with_appcontext
def users_deactivate(email: str) -> None:
    """Refuse EMAIL's sign-ins and end their sessions (the last active admin cannot be)."""
    click.echo(_change_user(email, "deactivate"))


@users_group.command("activate")
@click.argument("email")
@with_appcontext
def users_activate(email: str) -> None:
    """Let a deactivated EMAIL sign in again."""
    click.echo(_change_user(email, "activate"))


@users_group.command("sign-out")
@click.argument("email")
@with_appcontext
def users_sign_out(email: str) -> None:
    """End every session of EMAIL."""
    click.echo(_change_user(email, "sign-out"))


@users_group.command("reset-link")
@click.argument("email")
@with_appcontext
def users_reset_link(email: str) -> None:
    """Print a password-reset link for EMAIL: signed, good once, for PASSWORD_RESET_LINK_MAX_AGE seconds."""
    from app.accounts.reset import issue_reset
    from app.accounts.users import AccountError, user_by_email
    from app.admin.auth import reset_link
    from app.models import utcnow

    with session_scope() as session:
        try:
            user = user_by_email(session, email)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        if not issue_reset(session, user=user, now=utcnow(), actor="cli"):
            raise click.ClickException(f"{user.email} is deactivated; activate them first")
        link = reset_link(user)
        session.commit()
    minutes = current_app.config["PASSWORD_RESET_LINK_MAX_AGE"] // 60
    click.echo(link)
    click.echo(f"(works once, for {minutes} minutes; using it signs {user.email} out everywhere)", err=True)


@cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker_command(burst: bool) -> None:
    """An RQ worker on the delivery, sales-screening and screening queues (in that order), with the sweeper."""
    import worker

    sys.exit(worker.main(burst=burst))


@cli.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Re-enqueue submissions stuck in `received`, due deliveries, and holds caused by DNS failures; then the
    alert checks (run from cron, this is what notices that no worker runs)."""
    from app.alerts import run_alert_checks
    from app.runtime.sweeper import DnsWatch, run_sweep
    from app.screening_context.builder import resolver_for

    config = current_app.config
    watch = DnsWatch(resolver_for(current_app), current_app.extensions["leadsieve.redis"])
    with session_scope() as session:
        result = run_sweep(
            session,
            older_than_seconds=config["SWEEP_AFTER_SECONDS"],
            dns_retry_after_seconds=config["DNS_RETRY_AFTER_SECONDS"],
            dns_retry_limit=config["DNS_RETRY_LIMIT"],
            dns=watch if config["DNS_ENABLED"] else None,
        )
    alerts = run_alert_checks(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(
        f"re-enqueued {result.submissions} submission(s) and {result.deliveries} due deliveries; "
        f"{result.dns_holds} DNS hold(s) screened again"
        + ("; DNS unavailable: those holds are screened again when it answers" if result.dns_ok is False else "")
    )
    click.echo(f"alerts: {alerts.opened} opened, {alerts.resolved} resolved, {alerts.delivered} notice(s) sent")


@cli.command("embed")
@click.argument("slug")
@click.option("--iframe", is_flag=True, help="The iframe snippet instead of the script snippet.")
@with_appcontext
def embed_command(slug: str, iframe: bool) -> None:
    """Print the HTML snippet to paste into a website for form SLUG."""
    from app.capture.service import find_form
    from app.embed.snippets import iframe_snippet, script_snippet

    with session_scope() as session:
        form_row = find_form(session, slug)
        if form_row is None:
            raise click.ClickException(f"no form with slug {slug!r}")
        base = current_app.config["PUBLIC_BASE_URL"]
        with current_app.test_request_context(base_url=base):
            click.echo(
                iframe_snippet(form_row, base_url=base) if iframe else script_snippet(form_row, base_url=base), nl=False
            )


@cli.group("destinations")
def destinations_group() -> None:
    """Where accepted leads are forwarded."""


@destinations_group.command("add")
@click.option("--kind", required=True, type=click.Choice(["webhook", "email", "slack", "salesforce", "hubspot"]))
@click.option("--url", "target", required=True, help="URL, or comma-separated addresses for --kind email.")
@click.option("--name", default="")
@click.option("--stages", default="", help="Comma-separated stages it receives (prospect,MQL,SQL); default all.")
@click.option("--forms", default="", help="Comma-separated form slugs it receives; default all.")
@click.option("--option", "options", multiple=True, help="KEY=VALUE adapter option (e.g. oid=00D... for salesforce).")
@with_appcontext
def destinations_add(kind: str, target: str, name: str, stages: str, forms: str, options: tuple[str, ...]) -> None:
    """Add a destination; a webhook's signing secret is printed once."""
    from app.forwarding.destinations import InvalidDestination, create_destination

    split = lambda text: [item.strip() for item in text.split(",") if item.strip()]  # noqa: E731
    with session_scope() as session:
        try:
            destination = create_destination(
                session,
                kind=kind,
                target=target,
                name=name,
                stages=split(stages),
                forms=split(forms),
                options=dict(option.split("=", 1) for option in options if "=" in option),
                allowed_private=current_app.config["ALLOWED_PRIVATE_DESTINATIONS"],
                actor="cli",
            )
            session.commit()
        except InvalidDestination as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Added destination {destination.id}: {destination.kind} {destination.target}")
        if destination.secret:
            click.echo(f"Signing secret (shown once): {destination.secret}")


@destinations_group.command("list")
@with_appcontext
def destinations_list() -> None:
    """One line per destination."""
    from app.forwarding.destinations import list_destinations

    with session_scope() as session:
        for d in list_destinations(session):
            state = "active" if d.active else "inactive"
            click.echo(
                f"{d.id}\t{d.kind}\t{d.target}\tstages={','.join(d.stages) or 'all'}"
                f"\tforms={','.join(d.forms) or 'all'}\t{state}"
            )


@destinations_group.command("remove")
@click.argument("destination_id", type=int)
@with_appcontext
def destinations_remove(destination_id: int) -> None:
    """Delete a destination (deactivate it if it has deliveries)."""
    from app.forwarding.destinations import InvalidDestination, remove_destination

    with session_scope() as session:
        try:
            click.echo(f"Destination {destination_id} {remove_destination(session, destination_id, actor='cli')}")
            session.commit()
        except InvalidDestination as exc:
            raise click.ClickException(str(exc)) from exc


@destinations_group.command("rotate-secret")
@click.argument("destination_id", type=int)
@with_appcontext
def destinations_rotate_secret(destination_id: int) -> None:
    """Replace a webhook's signing secret; the new one is printed once."""
    from app.forwarding.destinations import InvalidDestination, rotate_secret

    with session_scope() as session:
        try:
            secret = rotate_secret(session, destination_id, actor="cli")
            session.commit()
        except InvalidDestination as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"New signing secret for destination {destination_id} (shown once): {secret}")
    click.echo(
        "Deliveries are signed with it from now on; let the receiver accept the old and the new "
        "secret until it is updated."
    )


@destinations_group.command("test")
@click.argument("destination_id", type=int)
@with_appcontext
def destinations_test(destination_id: int) -> None:
    """Send a sample lead to a destination now and show the answer."""
    from app.forwarding.destinations import test_destination
    from app.jobs import delivery_settings
    from app.models import Destination

    with session_scope() as session:
        destination = session.get(Destination, destination_id)
        if destination is None:
            raise click.ClickException(f"no destination {destination_id}")
        result = test_destination(destination, delivery_settings())
    click.echo(
        f"{'OK' if result.ok else 'FAILED'} status={result.status_code} {result.latency_ms} ms "
        f"{result.error or result.response_excerpt[:200]}"
    )
    if not result.ok:
        sys.exit(1)


@cli.group("deliveries")
def deliveries_group() -> None:
    """Forwarding attempts."""


@deliveries_group.command("replay")
@click.argument("delivery_ids", type=int, nargs=-1)
@click.option("--all-dead", is_flag=True, help="Replay every dead or failed delivery.")
@with_appcontext
def deliveries_replay(delivery_ids: tuple[int, ...], all_dead: bool) -> None:
    """Send dead or failed deliveries again (same idempotency key)."""
    from sqlalchemy import select

    from app.actions import replay_deliveries
    from app.models import Delivery
    from app.statuses import DeliveryStatus

    with session_scope() as session:
        ids = list(delivery_ids)
        if all_dead:
            ids += session.scalars(
                select(Delivery.id).where(Delivery.status.in_((DeliveryStatus.DEAD, DeliveryStatus.FAILED)))
            ).all()
        replayed = replay_deliveries(session, delivery_ids=ids, actor="cli")
    skipped = sorted(set(ids) - set(replayed))
    click.echo(
        f"replaying {len(replayed)} deliver{'y' if len(replayed) == 1 else 'ies'}"
        + (f"; not dead or failed: {', '.join(map(str, skipped))}" if skipped else "")
    )


@cli.group("db")
def db_group() -> None:
    """Schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Upgrade the schema (default: to head)."""
    from app.runtime.migrations import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION ('base' removes every table)."""
    from app.runtime.migrations import downgrade

    downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@cli.command("screen")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", default="-", show_default=True, help="Output file (.csv or .jsonl); - for stdout.")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 256),
    help="Rows screened at once (bounds concurrent DNS look-ups)  [default: 64, chosen by measurement, "
    "see docs/benchmarks.md]",
)
@click.option("--no-dns", is_flag=True, help="Skip DNS checks (offline).")
@with_appcontext
def screen_command(path: str, output: str, workers: int | None, no_dns: bool) -> None:
    """Screen a CSV or JSON-lines list (e.g. a trade-show export) through the same checks as the worker."""
    from dataclasses import replace

    from sqlalchemy.exc import SQLAlchemyError

    from app.screening_context.builder import build_context
    from screening.batch import CP1252, DEFAULT_WORKERS, count_lines, detect_encoding, detect_format, run_batch
    from screening.errors import BatchInputError

    workers = workers or DEFAULT_WORKERS

    try:
        in_format = detect_format(path)
        out_format = (
            "csv" if output == "-" and in_format == "csv" else ("jsonl" if output == "-" else detect_format(output))
        )
    except BatchInputError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        encoding = detect_encoding(path)
    except BatchInputError as exc:
        raise click.ClickException(str(exc)) from exc
    if encoding == CP1252:
        click.echo(f"note: {path} is not UTF-8; reading it as Windows-1252 (cp1252)", err=True)
    try:
        with session_scope() as session:
            context = build_context(session=session, with_activity=False)
    except SQLAlchemyError as exc:
        click.echo(f"warning: admin lists unavailable, screening without them ({type(exc).__name__})", err=True)
        from screening.context import Lists

        context = build_context(session=None, lists=Lists(), with_activity=False)
    if no_dns:
        context = replace(context, resolver=None)
    total = count_lines(path, encoding) - (1 if in_format == "csv" else 0)
    sink = click.open_file(output, "w", encoding="utf-8")
    show_bar = sys.stderr.isatty()
    with open(path, encoding=encoding, newline="") as source, sink:
        try:
            if show_bar:
                with click.progressbar(length=max(total, 0), label="screening", file=sys.stderr) as bar:
                    summary = run_batch(
                        source,
                        sink,
                        in_format=in_format,
                        out_format=out_format,
                        context=context,
                        workers=workers,
                        progress=bar.update,
                    )
            else:
                summary = run_batch(
                    source, sink, in_format=in_format, out_format=out_format, context=context, workers=workers
                )
        except BatchInputError as exc:
            raise click.ClickException(str(exc)) from exc
    for _line, error in summary.errors:
        click.echo(f"skipped {error}", err=True)
    for line in summary.report():
        click.echo(line, err=True)


@cli.group("lists")
def lists_group() -> None:
    """Disposable-address lists: the bundled ones, and those downloaded from DISPOSABLE_SOURCE_URLS."""


@lists_group.command("refresh")
@click.option(
    "--min-entries",
    default=1000,
    show_default=True,
    type=click.IntRange(1),
    help="A list with fewer domains is refused.",
)
@click.option(
    "--min-share",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="A list smaller than this share of its previous copy is refused (truncated).",
)
@click.option("--max-mb", default=32, show_default=True, type=click.IntRange(1), help="Larger downloads are refused.")
@with_appcontext
def lists_refresh(min_entries: int, min_share: float, max_mb: int) -> None:
    """Download the DISPOSABLE_SOURCE_URLS lists, check them, and swap in the good ones (workers pick them up)."""
    from app.screening_context.disposable_sources import disposable_for, lists_directory, refresh_sources

    urls = current_app.config["DISPOSABLE_SOURCE_URLS"]
    outcomes = refresh_sources(
        urls,
        lists_directory(current_app),
        min_entries=min_entries,
        min_share=min_share,
        max_bytes=max_mb * 1024 * 1024,
    )
    for outcome in outcomes:
        click.echo(outcome.line())
    index = disposable_for(current_app)
    where = "" if urls else " (DISPOSABLE_SOURCE_URLS is empty: bundled lists only)"
    click.echo(f"{len(index)} disposable domains from {len(index.sources)} sources{where}")
    refused = [o for o in outcomes if not o.accepted]
    if refused:
        raise click.ClickException(f"{len(refused)} of {len(outcomes)} list(s) refused; their previous copies stay")


@cli.group("model")
def model_group() -> None:
    """The spam model learned from reviewers' and sales' decisions (docs/screening.md)."""


@model_group.command("stats")
@with_appcontext
def model_stats() -> None:
    """What the learned spam model has learned here, and whether it adds findings yet."""
    from app.screening_context.learned_model import stats

    with session_scope() as session:
        result = stats(session, current_app.config)
    click.echo(result.line())
    for source, count in sorted(result.by_source.items()):
        click.echo(f"  {count:6d}  {source}")
    click.echo(f"seed: {result.seed_spam} spam, {result.seed_ham} ham (never counted as decisions made here)")
    if result.last_at is not None:
        click.echo(f"last decision learned: {result.last_at:%Y-%m-%d %H:%M} UTC")


@model_group.command("reset")
@click.option("--note", default="", help="Why (goes into the audit log).")
@click.confirmation_option(prompt="Forget every decision the learned spam model took from this installation?")
@with_appcontext
def model_reset(note: str) -> None:
    """Forget every decision learned here (audited); the model starts again from its seed."""
    from app.screening_context.learned_model import reset

    with session_scope() as session:
        count = reset(session, actor="cli", note=note)
        session.commit()
    click.echo(f"forgot {count} decision(s); the learned spam model starts again from its seed")


@cli.command("erase")
@click.argument("email")
@with_appcontext
def erase_command(email: str) -> None:
    """Erase the personal data of the person with address EMAIL (counts stay; see docs/privacy.md)."""
    from app.privacy.erasure import InvalidEmail, erase_person

    with session_scope() as session:
        try:
            report = erase_person(session, email=email, actor="cli", smtp_url=current_app.config["SMTP_URL"])
            session.commit()
        except InvalidEmail as exc:
            raise click.ClickException(str(exc)) from exc
    if not report.found:
        click.echo(f"no personal data found for that address (audited as {report.email_sha256[:12]}…)", err=True)
        sys.exit(1)
    click.echo(
        f"erased {report.submissions} submission(s), {report.leads} lead(s), {report.findings} finding(s), "
        f"{report.deliveries} delivery(ies), {report.outbox_files} outbox e-mail(s); "
        f"audit id {report.email_sha256[:12]}…"
    )


@cli.command("purge")
@click.option("--days", type=int, default=None, help="Override RETENTION_REJECTED_DAYS for this run.")
@with_appcontext
def purge_command(days: int | None) -> None:
    """Delete rejected submissions older than RETENTION_REJECTED_DAYS (0 = keep forever)."""
    from app.privacy.erasure import purge_rejected

    days = current_app.config["RETENTION_REJECTED_DAYS"] if days is None else days
    if days <= 0:
        click.echo("retention is off (RETENTION_REJECTED_DAYS=0): nothing purged")
        return
    with session_scope() as session:
        count = purge_rejected(session, older_than_days=days, actor="cli")
    click.echo(f"purged {count} rejected submission(s) older than {days} day(s)")


@cli.group("tokens")
def tokens_group() -> None:
    """API tokens for integrations (a CRM posting sales feedback to /api/leads/feedback)."""


@tokens_group.command("create")
@click.option("--scope", type=click.Choice(["feedback"]), required=True, help="What the token may do.")
@click.option("--name", default="integration", show_default=True, help="Which integration or CRM it is for.")
@click.option("--destination", "destination_id", type=int, default=None, help="The destination it belongs to.")
@with_appcontext
def tokens_create(scope: str, name: str, destination_id: int | None) -> None:
    """Create a token and print it once: only its hash is kept."""
    from app.leads.api_tokens import create_token

    with session_scope() as session:
        row, token = create_token(session, name=name, scope=scope, actor="cli", destination_id=destination_id)
        session.commit()
        click.echo(f"token {row.id} ({name}, scope {scope}); shown once, keep it now:")
    click.echo(token)


def main() -> None:
    """Console-script entry point. A bad setting stops it here: the message, exit code 2, no traceback."""
    from app.observability import configure_logging
    from config import ConfigError, Settings

    try:
        settings = Settings.from_environ()  # validates only; create_app() reads the same environment
    except ConfigError as exc:
        print(f"leadsieve: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    configure_logging(level=settings.LOG_LEVEL, fmt=settings.log_format)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    cli.main(prog_name="leadsieve")
