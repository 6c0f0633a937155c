"""`leadsieve run` (what `make run` calls): the whole product on one machine, no set-up.

Starts the embedded Redis first and hands its socket URL to the web process and
the worker, migrates, seeds the demo, then supervises both children. Ctrl-C
(or either child dying) stops everything this launcher started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask
from redis.exceptions import RedisError

from app.db import session_scope
from app.runtime.embedded_redis import RedisServer, ping
from app.runtime.migrations import upgrade
from config import load_config


def _wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.1)
    return False


class PortInUse(RuntimeError):
    """The address `leadsieve run` was asked to serve on cannot be bound."""


def check_port(host: str, port: int) -> None:
    """Bind and release host:port now, so a busy port is reported before anything is started, created
    or printed (the web server would otherwise die after the launcher said it was running)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is fine
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PortInUse(
                f"Cannot serve on {host}:{port}: {exc.strerror or exc}. Another program (or another leadsieve) "
                f"is using it; choose another port, e.g. `make run PORT={port + 1}` "
                f"or `leadsieve run --port {port + 1}`."
            ) from exc


def public_base_url(host: str, port: int) -> str:
    """The base URL that links, embed snippets and feedback links use when PUBLIC_BASE_URL is unset: the
    address actually served (a wildcard bind is reached as 127.0.0.1 from this machine)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _dns_notice(app: Flask) -> str:
    """Probe DNS once at start and share the answer (the worker keeps probing); a line to print if down."""
    from app.runtime.sweeper import DnsWatch, watch_dns
    from app.screening_context import dns_health
    from app.screening_context.builder import resolver_for

    with app.app_context():
        watch = DnsWatch(resolver_for(app), app.extensions["leadsieve.redis"])
        try:
            ok, _ = watch_dns(watch)
        except RedisError:
            return ""
        health = dns_health.read(watch.redis)
    return "" if ok else f"{dns_health.NOTICE}\n  ({health.why if health else 'the canary did not answer'})"


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_all(*, host: str, port: int) -> int:
    """Start and supervise Redis (if embedded), the worker and the web server."""
    try:
        check_port(host, port)
    except PortInUse as exc:
        print(str(exc), file=sys.stderr)
        return 1
    env = dict(os.environ)
    if not env.get("PUBLIC_BASE_URL"):
        env["PUBLIC_BASE_URL"] = public_base_url(host, port)
    settings = load_config(env)
    redis: RedisServer | None = None
    if settings["REDIS_EMBEDDED"]:
        instance = Path(settings["INSTANCE_PATH"])
        if ping(settings["REDIS_URL"]):
            print(f"Reusing the Redis already running at {settings['REDIS_URL']}")
        else:
            redis = RedisServer(instance).start()
            print(f"Started embedded Redis at {redis.url}")
        env["REDIS_URL"] = settings["REDIS_URL"]
        env.setdefault("SECRET_KEY", settings["SECRET_KEY"])
    children: list[subprocess.Popen[bytes]] = []

    def _terminate(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        upgrade(settings["DATABASE_URL"])
        from app import create_app
        from app.runtime.seed import ensure_admin, seed_demo

        app = create_app(settings)
        with app.app_context(), session_scope() as session:
            forms = [(f.name, f.slug) for f in seed_demo(session)]
            admin_email, password = ensure_admin(session)
            session.commit()
        dns_notice = _dns_notice(app) if settings["DNS_ENABLED"] else ""
        children.append(subprocess.Popen([sys.executable, "-m", "app", "worker"], env=env))
        children.append(
            subprocess.Popen([sys.executable, "-m", "app", "serve", "--host", host, "--port", str(port)], env=env)
        )
        if not _wait_for_port(host, port, 20):
            print(f"The web server did not start on {host}:{port}; is the port in use?", file=sys.stderr)
            return 1
        base = settings["PUBLIC_BASE_URL"]
        print("\nleadsieve is running. Demo forms:")
        for name, slug in forms:
            print(f"  {name:45} {base}/f/{slug}")
        print(f"Admin: {base}/admin/  login {admin_email}", end="")
        print(
            f"  password {password}  (shown once)"
            if password
            else "  (password shown at first run; "
            "reset with: .venv/bin/leadsieve create-admin --email " + admin_email + ")"
        )
        if dns_notice:
            print(dns_notice)
        print("Press Ctrl-C to stop.\n", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("A leadsieve process exited; stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…")
        return 0
    finally:
        _stop(children)
        if redis is not None:
            redis.stop()
