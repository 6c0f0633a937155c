"""`screening` stays usable on its own: it never imports Flask, SQLAlchemy, Redis, RQ or the app."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("flask", "sqlalchemy", "redis", "rq", "app", "forms", "config", "flask_wtf", "wtforms")


def test_screening_imports_no_framework():
    code = (
        "import sys, pkgutil, importlib, screening\n"
        "for m in pkgutil.walk_packages(screening.__path__, 'screening.'): importlib.import_module(m.name)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
