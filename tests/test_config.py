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


# --- Typed settings: a bad value stops start-up, naming the variable, the value and what is allowed ---


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        # Each of these used to slip through: 'flase' meant false, 'abc' a bare ValueError, 'verbose' was kept.
        ("RATELIMIT_ENABLED", "flase", "expected a boolean (true/false"),
        ("DNS_TIMEOUT_SECONDS", "abc", "expected a number > 0"),
        ("LOG_LEVEL", "verbose", "expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ],
)
def test_former_silent_mistakes_are_config_errors(tmp_path, name, value, allowed):
    with pytest.raises(ConfigError) as info:
        load_config({name: value, "LEADSIEVE_INSTANCE": str(tmp_path)})
    assert str(info.value).startswith(f"{name}: {allowed}")
    assert str(info.value).endswith(f", got {value!r}")
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("JOB_TIMEOUT_SECONDS", "0", "an integer > 0"),
        ("DELIVERY_TIMEOUT_SECONDS", "-1", "a number > 0"),
        ("TRUSTED_PROXY_COUNT", "-1", "an integer ≥ 0"),
        ("DELIVERY_BACKOFF", "60, -5", "comma-separated list (each an integer ≥ 0)"),
    ],
)
def test_out_of_range_values_are_refused(name, value, allowed):
    with pytest.raises(ConfigError) as info:
        load_config({"LEADSIEVE_ENV": "testing", name: value})
    assert str(info.value) == f"{name}: expected {allowed}, got {value!r}"


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("LOG_FORMAT", "xml", "one of text, json"),
        ("LEADSIEVE_ENV", "staging", "one of development, testing, production"),
    ],
)
def test_literal_errors_list_the_allowed_values(name, value, allowed):
    with pytest.raises(ConfigError) as info:
        load_config({"LEADSIEVE_ENV": "testing", name: value})
    assert str(info.value) == f"{name}: expected {allowed}, got {value!r}"


def test_case_is_forgiven_for_enumerations():
    settings = load_config({"LEADSIEVE_ENV": " Testing", "LOG_LEVEL": "debug", "LOG_FORMAT": "JSON"})
    assert (settings["LEADSIEVE_ENV"], settings["LOG_LEVEL"], settings["LOG_FORMAT"]) == ("testing", "DEBUG", "json")


@pytest.mark.parametrize(
    ("spelling", "meaning"),
    [(word, True) for word in ("true", "1", "yes", "on", "TRUE", " Yes ")]
    + [(word, False) for word in ("false", "0", "no", "off", "False", "OFF")],
)
def test_booleans_accept_the_documented_spellings(spelling, meaning):
    settings = load_config({"LEADSIEVE_ENV": "testing", "RATELIMIT_ENABLED": spelling, "IP_TRUNCATE": spelling})
    assert settings["RATELIMIT_ENABLED"] is meaning and settings["IP_TRUNCATE"] is meaning


@pytest.mark.parametrize("spelling", ["t", "y", "2", "enabled", "flase", "nope"])
def test_booleans_refuse_anything_else(spelling):
    with pytest.raises(ConfigError, match=r"^DNS_ENABLED: expected a boolean"):
        load_config({"LEADSIEVE_ENV": "testing", "DNS_ENABLED": spelling})


def test_empty_means_default_except_where_empty_is_a_value():
    settings = load_config({"LEADSIEVE_ENV": "testing", "RATELIMIT_ENABLED": "", "DNS_CANARY_DOMAIN": ""})
    assert settings["RATELIMIT_ENABLED"] is True
    assert settings["DNS_CANARY_DOMAIN"] == ""  # empty turns the canary check off


def test_json_and_rate_limit_values_are_checked_at_start():
    with pytest.raises(ConfigError, match=r"^SCORING_RULES: expected a JSON object, got '\{bad'"):
        load_config({"LEADSIEVE_ENV": "testing", "SCORING_RULES": "{bad"})
    with pytest.raises(ConfigError, match=r"^SCREENING_POLICY: expected a JSON object, got '\[1\]'"):
        load_config({"LEADSIEVE_ENV": "testing", "SCREENING_POLICY": "[1]"})
    with pytest.raises(ConfigError, match=r"^RATELIMIT_CAPTURE: .*Flask-Limiter.*got '20 a minute'"):
        load_config({"LEADSIEVE_ENV": "testing", "RATELIMIT_CAPTURE": "20 a minute"})


def test_every_bad_variable_is_named_at_once():
    with pytest.raises(ConfigError) as info:
        load_config({"LEADSIEVE_ENV": "testing", "MAX_BODY_BYTES": "lots", "IP_TRUNCATE": "maybe"})
    assert str(info.value).splitlines() == [
        "MAX_BODY_BYTES: expected an integer > 0, got 'lots'",
        "IP_TRUNCATE: expected a boolean (true/false, 1/0, yes/no, on/off), got 'maybe'",
    ]


def test_job_timeout_must_outlast_delivery_and_dns():
    with pytest.raises(ConfigError, match="JOB_TIMEOUT_SECONDS .* must be longer than DELIVERY_TIMEOUT_SECONDS"):
        load_config({"LEADSIEVE_ENV": "testing", "JOB_TIMEOUT_SECONDS": "10"})


def test_secrets_are_hidden_in_the_settings_but_plain_for_flask():
    from config import Settings

    environ = {
        "LEADSIEVE_ENV": "testing",
        "SECRET_KEY": "the-real-secret",
        "SECRET_KEY_FALLBACKS": "old-one",
        "METRICS_TOKEN": "scrape-token",
        "SMTP_URL": "smtp+starttls://user:mail-password@mail:587",
        "DATABASE_URL": "postgresql+psycopg://u:db-password@db/leadsieve",
    }
    shown = repr(Settings.from_environ(environ))
    for secret in ("the-real-secret", "old-one", "scrape-token", "mail-password", "db-password"):
        assert secret not in shown
    flask = load_config(environ)
    assert flask["SECRET_KEY"] == "the-real-secret" and flask["SECRET_KEY_FALLBACKS"] == ["old-one"]
    assert flask["METRICS_TOKEN"] == "scrape-token" and flask["SMTP_URL"].startswith("smtp+starttls://user:mail-")
    assert load_config({"LEADSIEVE_ENV": "testing"})["METRICS_TOKEN"] == ""


def test_a_refused_secret_is_not_echoed():
    from pydantic import ValidationError

    from config import Settings, config_error

    with pytest.raises(ValidationError) as info:  # from the environment every string is a valid secret
        Settings.model_validate({"SECRET_KEY": 42})
    message = str(config_error(info.value, {"SECRET_KEY": "s3cr3t-value"}))
    assert message == "SECRET_KEY: expected a string (secret), got a hidden value"


def test_rate_limiter_settings_come_from_config(tmp_path):
    embedded = load_config({"LEADSIEVE_ENV": "testing", "LEADSIEVE_INSTANCE": str(tmp_path)})
    assert embedded["RATELIMIT_STORAGE_URI"] == f"redis+unix://{tmp_path / 'redis.sock'}"
    assert embedded["RATELIMIT_HEADERS_ENABLED"] is False
    assert embedded["RATELIMIT_SWALLOW_ERRORS"] is True and embedded["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    assert embedded["RATELIMIT_STORAGE_OPTIONS"] == {"socket_timeout": 1, "socket_connect_timeout": 1}
    shared = load_config(
        {"LEADSIEVE_ENV": "testing", "REDIS_URL": "redis://cache:6379/0", "RATELIMIT_HEADERS_ENABLED": "on"}
    )
    assert shared["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0" and shared["RATELIMIT_HEADERS_ENABLED"] is True


def test_admin_email_is_a_setting():
    assert load_config({"LEADSIEVE_ENV": "testing"})["ADMIN_EMAIL"] == "admin@example.com"
    assert (
        load_config({"LEADSIEVE_ENV": "testing", "ADMIN_EMAIL": "ops@example.org"})["ADMIN_EMAIL"] == "ops@example.org"
    )


def test_production_forces_secure_cookies_and_json_logs_unless_asked():
    settings = load_config({**PROD_OK, "SESSION_COOKIE_SECURE": "false"})
    assert settings["SESSION_COOKIE_SECURE"] is True and settings["LOG_FORMAT"] == "json"
    assert settings["SMTP_URL"] == ""
    assert load_config({**PROD_OK, "LOG_FORMAT": "text", "SMTP_URL": "smtp://mail"})["LOG_FORMAT"] == "text"


def test_settings_reads_os_environ_like_load_config(monkeypatch, tmp_path):
    from config import Settings

    monkeypatch.setenv("LEADSIEVE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DNSBL_ZONES", "a.example, b.example")
    monkeypatch.setenv("DNS_CANARY_DOMAIN", "")
    assert Settings().model_dump() == Settings.from_environ().model_dump()
    assert Settings().DNSBL_ZONES == ["a.example", "b.example"]


def test_create_app_with_a_bad_environment_fails_before_anything_starts(monkeypatch, tmp_path):
    from app import create_app

    instance = tmp_path / "instance"
    monkeypatch.setenv("LEADSIEVE_INSTANCE", str(instance))
    monkeypatch.setenv("LEADSIEVE_ENV", "development")
    monkeypatch.setenv("RATELIMIT_ENABLED", "flase")
    with pytest.raises(ConfigError, match="RATELIMIT_ENABLED"):
        create_app()
    assert not instance.exists()  # no secret, no database, no socket


def test_the_command_prints_a_bad_setting_and_exits_2(monkeypatch, capsys):
    from app.cli import main

    monkeypatch.setenv("LOG_LEVEL", "verbose")
    monkeypatch.setattr("sys.argv", ["leadsieve", "--help"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "leadsieve: configuration error: LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, "
        "got 'verbose'\n"
    )


def test_docs_table_matches_the_settings_class():
    from config import DOCS_PATH, TABLE_END, TABLE_START, settings_table

    document = DOCS_PATH.read_text()
    assert TABLE_START in document and TABLE_END in document, f"{DOCS_PATH} lost its settings-table markers"
    documented = document.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()
    assert documented == settings_table().strip(), (
        "docs/configuration.md disagrees with config.Settings; regenerate the table with: python -m config docs"
    )
