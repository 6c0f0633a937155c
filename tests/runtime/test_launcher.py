"""`leadsieve run` (what `make run` calls), end to end with real processes.

Starts it on a free port with nothing configured, submits a demo form over
HTTP, waits for the worker to screen it, runs it again (no second admin), and
checks Ctrl-C stops everything it started.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import _DNS, free_port


def start(instance: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "SECRET_KEY", "LEADSIEVE_ENV", "TEST_DATABASE_URL"}
    }
    env["LEADSIEVE_INSTANCE"] = str(instance)
    env["LOG_LEVEL"] = "WARNING"
    env["DNS_NAMESERVERS"] = _DNS["address"]  # the suite's loopback DNS server, not the machine's resolver
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if "Press Ctrl-C to stop." in line:
            return process, lines
    process.kill()
    pytest.fail("leadsieve run did not come up:\n" + "\n".join(lines))


def stop(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    assert process.stdout is not None
    process.stdout.read()  # drain, so the launcher never blocks on a full pipe while stopping
    process.stdout.close()
    assert process.wait(timeout=30) == 0


def post_form(url: str) -> int:
    html = urllib.request.urlopen(url, timeout=10).read().decode()
    token = re.search(r'<input[^>]*name="token"[^>]*value="([^"]+)"', html) or re.search(
        r'<input[^>]*value="([^"]+)"[^>]*name="token"', html
    )
    assert token
    data = urllib.parse.urlencode(
        {
            "email": "jane@acme.com",
            "first_name": "Jane",
            "last_name": "Doe",
            "company": "Acme",
            "consent": "y",
            "token": token.group(1),
        }
    ).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as response:
        assert b"Thank you" in response.read()
        return response.status


def test_make_run_serves_forms_screens_and_stops_cleanly(tmp_path):
    instance = tmp_path / "instance"
    port = free_port()
    process, lines = start(instance, port)
    try:
        output = "\n".join(lines)
        urls = re.findall(rf"http://127\.0\.0\.1:{port}/f/[a-z0-9-]+", output)
        assert len(urls) == 3
        assert re.search(r"Admin: http://127\.0\.0\.1:\d+/admin/  login admin@example.com  password \S+", output)
        assert post_form(next(u for u in urls if "request-demo" in u)) == 200

        db = sqlite3.connect(instance / "leadsieve.db")
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            status = db.execute("SELECT status, verdict FROM submissions").fetchall()
            if status and status[0][0] == "screened":
                break
            time.sleep(0.2)
        db.close()
        assert status == [("screened", "accepted")]
    finally:
        stop(process)
    assert not (instance / "redis.sock").exists()

    process, lines = start(instance, port)
    try:
        output = "\n".join(lines)
        assert "password shown at first run" in output
        db = sqlite3.connect(instance / "leadsieve.db")
        assert db.execute("SELECT count(*) FROM users").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM forms").fetchone() == (3,)
        db.close()
    finally:
        stop(process)
    leftovers = subprocess.run(["pgrep", "-f", str(instance)], capture_output=True, text=True).stdout
    assert leftovers.strip() == ""


def test_a_busy_port_is_reported_before_anything_is_started_or_printed(tmp_path):
    instance = tmp_path / "instance"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "TEST_DATABASE_URL"}}
        env["LEADSIEVE_INSTANCE"] = str(instance)
        result = subprocess.run(
            [sys.executable, "-m", "app", "run", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"Cannot serve on 127.0.0.1:{port}" in result.stderr and f"PORT={port + 1}" in result.stderr
    assert "leadsieve is running" not in result.stdout and "password" not in result.stdout
    assert not (instance / "leadsieve.db").exists() and not (instance / "redis.sock").exists()


def test_links_follow_the_port_served_when_public_base_url_is_unset(tmp_path):
    instance = tmp_path / "instance"
    port = free_port()
    process, lines = start(instance, port)
    try:
        output = "\n".join(lines)
        password = re.search(r"login admin@example.com  password (\S+)", output).group(1)
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        login = opener.open(f"{base}/admin/login", timeout=10).read().decode()
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        form = urllib.parse.urlencode({"email": "admin@example.com", "password": password, "csrf_token": csrf})
        opener.open(urllib.request.Request(f"{base}/admin/login", data=form.encode()), timeout=10).read()
        forms_page = opener.open(f"{base}/admin/forms", timeout=10).read().decode()
        edit = re.search(r'href="(/admin/forms/\d+)"', forms_page).group(1)
        panel = opener.open(f"{base}{edit}", timeout=10).read().decode()
        assert f"{base}/embed.js" in panel or f"{base}/f/" in panel
        assert "127.0.0.1:5000" not in panel
    finally:
        stop(process)
