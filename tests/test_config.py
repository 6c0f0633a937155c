"""Settings: documented defaults in development, loud refusal of them in production."""

from __future__ import annotations

import os
import stat

import pytest

from config import ConfigError, load_config

PROD_OK = {
    "LEADSIEVE_ENV": "production",
    "SECRET_KEY": "k" * 40,
    "DATABASE_URL": "postgresql+psycopg://leadsieve@db/leadsieve",
    "REDIS_URL": "redis://cache:6379/0",
}


def test_development_defaults(tmp_path):
    settings = load_config({"LEADSIEVE_INSTANCE": str(tmp_path)})
    assert settings["LEADSIEVE_ENV"] == "development"
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'leadsieve.db'}"
    assert settings["REDIS_URL"] == f"unix://{tmp_path / 'redis.sock'}"
    assert settings["REDIS_EMBEDDED"] is True
    assert settings["MAX_CONTENT_LENGTH"] == 64 * 1024


def test_dev_secret_is_generated_once_and_kept_private(tmp_path):
    first = load_config({"LEADSIEVE_INSTANCE": str(tmp_path)})["SECRET_KEY"]
    second = load_config({"LEADSIEVE_INSTANCE": str(tmp_path)})["SECRET_KEY"]
    assert first == second and len(first) >= 40
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_production_accepts_explicit_settings():
    settings = load_config(PROD_OK)
    assert settings["REDIS_EMBEDDED"] is False
    assert settings["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:///instance/leadsieve.db"}, "DATABASE_URL"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
    ],
)
def test_production_refuses_dev_defaults(tmp_path, override, named):
    environ = {**PROD_OK, **override, "LEADSIEVE_INSTANCE": str(tmp_path)}
    with pytest.raises(ConfigError, match=named) as info:
        load_config(environ)
    assert "refuses to start in production" in str(info.value)
    assert not (tmp_path / "secret_key").exists()  # no dev secret generated on the way


def test_production_lists_every_problem_at_once():
    with pytest.raises(ConfigError) as info:
        load_config({"LEADSIEVE_ENV": "production"})
    message = str(info.value)
    assert "SECRET_KEY" in message and "DATABASE_URL" in message and "REDIS_URL" in message


@pytest.mark.parametrize(("name", "value"), [("MAX_BODY_BYTES", "lots"), ("LEADSIEVE_ENV", "staging")])
def test_bad_values_are_named(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_config({name: value, "LEADSIEVE_INSTANCE": str(tmp_path)})


def test_worker_refuses_to_start_without_redis(tmp_path, monkeypatch, capsys):
    import worker

    monkeypatch.setenv("LEADSIEVE_INSTANCE", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("LEADSIEVE_ENV", raising=False)
    assert worker.main(burst=True) == 2
    assert "no Redis answers" in capsys.readouterr().err
