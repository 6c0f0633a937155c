"""Every leadsieve setting, read from the environment, typed and checked in one class: `Settings`.

`load_config()` reads the environment (or a mapping given instead), validates it and returns the
plain dict that `create_app()` hands to Flask (secrets unwrapped, derived defaults filled in).
A bad value stops start-up with a `ConfigError` naming the variable, what was given and what is
allowed. Development defaults are convenient (SQLite, an embedded Redis, a secret generated once
under `instance/`); LEADSIEVE_ENV=production refuses them and says what to set instead.

The settings table in docs/configuration.md is generated from the class:

    python -m config table          # print the markdown table
    python -m config docs           # rewrite it between the markers in docs/configuration.md
    python -m config check          # validate this environment, starting nothing
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from limits import parse_many
from pydantic import AfterValidator, BeforeValidator, Field, NonNegativeInt, SecretStr, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent
DOCS_PATH = PROJECT_ROOT / "docs" / "configuration.md"
TABLE_START, TABLE_END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


class ConfigError(RuntimeError):
    """A setting is missing, malformed or unsafe for the chosen environment."""


def instance_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where local state lives: SQLite file, dev secret, embedded Redis socket."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("LEADSIEVE_INSTANCE") or PROJECT_ROOT / "instance").resolve()


def embedded_redis_url(environ: Mapping[str, str] | None = None) -> str:
    """The unix socket of the Redis server `leadsieve run` starts when REDIS_URL is unset."""
    return f"unix://{instance_dir(environ) / 'redis.sock'}"


def dev_secret_key(directory: Path) -> str:
    """Generate the development secret once and keep it, so sessions survive restarts."""
    path = directory / "secret_key"
    if path.exists():
        return path.read_text().strip()
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


# --- How environment strings become values ---------------------------------------------------------

BOOLEAN_WORDS = dict.fromkeys(("true", "1", "yes", "on"), True) | dict.fromkeys(("false", "0", "no", "off"), False)


def _boolean(value: Any) -> Any:
    """Only the documented spellings: a typo such as 'flase' must not quietly mean false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[value.strip().lower()]
    raise PydanticCustomError("strict_bool", "not a boolean")


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise PydanticCustomError("json_invalid", "{error}", {"error": str(exc)}) from exc
    return value


def _rate_limits(value: str) -> str:
    """Checked now, not on the first request that hits the limiter."""
    try:
        parse_many(value)
    except ValueError as exc:
        raise PydanticCustomError("rate_limit", "{error}", {"error": str(exc)}) from exc
    return value


def _http_urls(values: list[str]) -> list[str]:
    """Download URLs must be http(s) with a host: checked at start-up, not at the first refresh."""
    from urllib.parse import urlsplit

    bad = [v for v in values if urlsplit(v).scheme not in ("http", "https") or not urlsplit(v).hostname]
    if bad:
        raise PydanticCustomError("http_urls", "not an http(s) URL: {bad}", {"bad": ", ".join(bad)})
    return values


# Enumerations forgive case and spaces: "json", "JSON " and "Json" all mean json.
_lower = BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v)
_upper = BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v)
Flag = Annotated[bool, BeforeValidator(_boolean)]
CommaList = Annotated[list[str], BeforeValidator(_comma_list)]
JsonObject = Annotated[dict[str, Any], BeforeValidator(_json)]
RateLimits = Annotated[str, AfterValidator(_rate_limits)]


def _time_zone(value: str) -> str:
    """An IANA zone the standard library knows: checked at start-up, not when a page first renders."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PydanticCustomError(
            "time_zone", "not an IANA time zone (e.g. Europe/Berlin): {value}", {"value": value}
        ) from exc
    return value


TimeZone = Annotated[str, AfterValidator(_time_zone)]


def _working_hours(value: str) -> str:
    """`HH:MM-HH:MM` within one day, start before end (app/leads/sla.py reads it the same way)."""
    match = re.fullmatch(r"\s*(\d{1,2}):([0-5]\d)\s*-\s*(\d{1,2}):([0-5]\d)\s*", value)
    start, end = (int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])) if match else (0, 0)
    if not match or start >= end or end > 24 * 60:
        raise PydanticCustomError("working_hours", "not working hours like 09:00-17:00: {value}", {"value": value})
    return value


def _weekdays(values: list[str]) -> list[str]:
    """At least one, each a weekday's first three letters (mon ... sun), in any case."""
    days = [v.lower() for v in values]
    if not days or any(d not in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for d in days):
        raise PydanticCustomError(
            "weekdays", "not weekdays like mon,tue,wed,thu,fri: {value}", {"value": ",".join(values)}
        )
    return days


def _setting(
    default: Any,
    description: str,
    *,
    shown: str | None = None,
    kind: str | None = None,
    keep_empty: bool = False,
    **constraints: Any,
) -> Any:
    """A field with its documentation: `shown` replaces the default in the table when the real one is
    derived (from LEADSIEVE_INSTANCE or LEADSIEVE_ENV), `kind` names the type better than the
    annotation does, `keep_empty` makes an empty variable a value (it otherwise means "use the default")."""
    extra: dict[str, Any] = {"shown": shown, "kind": kind, "keep_empty": keep_empty}
    return Field(default, description=description, json_schema_extra=extra, **constraints)


def _extra(field: FieldInfo) -> dict[str, Any]:
    return field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}


# --- The settings ------------------------------------------------------------------------------------


class Settings(BaseSettings):
    """Every setting. Fields hold what the environment says (None: unset, derived default applies);
    the properties below turn that into what the processes use.

    Build it with `Settings.from_environ(mapping)`; `Settings()` reads os.environ the same way.
    """

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    # Which rules apply, and where local state lives.
    LEADSIEVE_ENV: Annotated[Literal["development", "testing", "production"], _lower] = _setting(
        "development",
        "production refuses the development defaults below and says what to set; testing never writes a secret file",
    )
    LEADSIEVE_INSTANCE: Path | None = _setting(
        None,
        "directory for local state: SQLite file, dev secret, embedded Redis socket, e-mail outbox",
        shown="`instance/` beside config.py",
        kind="directory",
    )

    # Signing: one key signs, the former ones still verify, so rotating breaks nothing issued.
    SECRET_KEY: SecretStr | None = _setting(
        None,
        "signs sessions, form tokens and feedback links; production requires ≥ 32 characters",
        shown="generated once into `instance/secret_key` (mode 600); testing: a fixed test key",
    )
    SECRET_KEY_FALLBACKS: Annotated[list[SecretStr], BeforeValidator(_comma_list)] = _setting(
        [],
        "former `SECRET_KEY`s, comma-separated, oldest first: still accepted (never used to sign) for sessions, "
        "form tokens in pages and snippets already out, and feedback links already sent",
    )

    # Storage. URLs are secrets: they may carry a password.
    DATABASE_URL: SecretStr | None = _setting(
        None,
        "SQLAlchemy URL; production requires PostgreSQL (`postgresql+psycopg://…`)",
        shown="`sqlite:///instance/leadsieve.db` (WAL, `synchronous=NORMAL`: commits survive a crash of the "
        "process, not a power cut)",
        kind="SQLAlchemy URL",
    )
    SQLITE_BUSY_TIMEOUT_SECONDS: float = _setting(
        30.0,
        'SQLite only: how long a connection waits for another writer before failing with "database is locked"',
        ge=0,
    )
    REDIS_URL: SecretStr | None = _setting(
        None,
        "the Redis shared by web and workers (queues, rate limits); required in production",
        shown="the embedded Redis at `unix://instance/redis.sock` that `leadsieve run` starts",
        kind="Redis URL",
    )
    REDIS_TIMEOUT_SECONDS: float = _setting(
        2.0, "how long the web process waits for Redis before storing a submission without enqueueing it", gt=0
    )

    # The web process.
    PUBLIC_BASE_URL: Annotated[str, AfterValidator(lambda v: v.rstrip("/"))] = _setting(
        "http://127.0.0.1:5000", "printed links; its origin counts as the hosted form's own", kind="URL"
    )
    MAX_BODY_BYTES: int = _setting(
        64 * 1024,
        "request bodies larger than this are refused with 413 before parsing (Flask's MAX_CONTENT_LENGTH)",
        gt=0,
    )
    TRUSTED_PROXY_COUNT: int = _setting(
        0,
        "how many reverse proxies in front of the web process to trust for `X-Forwarded-For/Proto/Host` "
        "(client IPs for rate limits)",
        ge=0,
    )
    SESSION_COOKIE_SECURE: Flag = _setting(
        False, "admin session cookie only over HTTPS", shown="`false` (always `true` in production)"
    )

    # Rate limits (Flask-Limiter), counted in Redis so every web process shares them.
    RATELIMIT_ENABLED: Flag = _setting(True, "switch the limiter off (e.g. behind a proxy that limits already)")
    RATELIMIT_CAPTURE: RateLimits = _setting(
        "20 per minute;300 per hour",
        "per client IP on `POST /f/<slug>`; 429 with `Retry-After`",
        kind="Flask-Limiter rate limit string",
    )
    RATELIMIT_LOGIN: RateLimits = _setting(
        "10 per minute;50 per hour",
        "admin sign-in attempts and password-reset requests per client IP, whatever the account "
        "(failures for one account are slowed down per client by `LOGIN_*`)",
        kind="Flask-Limiter rate limit string",
    )
    RATELIMIT_STORAGE_URI: SecretStr | None = _setting(
        None,
        "where the limiter counts",
        shown="`REDIS_URL` (a unix socket spelled `redis+unix://`)",
        kind="Flask-Limiter storage URI",
    )
    RATELIMIT_STORAGE_OPTIONS: JsonObject = _setting(
        {"socket_timeout": 1, "socket_connect_timeout": 1}, "options of the limiter's Redis connection"
    )
    RATELIMIT_HEADERS_ENABLED: Flag = _setting(
        False,
        "`X-RateLimit-*` headers on every answer; they cost two Redis round trips per capture "
        "(a 429 carries `Retry-After` regardless)",
    )
    RATELIMIT_SWALLOW_ERRORS: Flag = _setting(
        True, "if Redis is down, let the visitor's request through rather than fail it"
    )
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED: Flag = _setting(
        True, "while Redis is down, count in each process's memory instead"
    )

    # Admin sign-in: sessions end on logout, a new password or role, deactivation, and these time-outs.
    ADMIN_SESSION_IDLE_MINUTES: int = _setting(
        120, "an admin session unused this long ends (activity is recorded at most once a minute)", gt=0
    )
    ADMIN_SESSION_MAX_HOURS: int = _setting(
        7 * 24, "an admin session ends this long after sign-in, however active", shown="`168` (7 days)", gt=0
    )
    LOGIN_FREE_FAILURES: int = _setting(
        5,
        "failed sign-ins one client (IP address, an IPv6 /64) may make for one account before each further "
        "try must wait (429 with `Retry-After`); other clients, the real user's included, are not slowed",
        gt=0,
    )
    LOGIN_DELAY_SECONDS: int = _setting(
        15, "the first such wait; it doubles with each further failure (forgotten a day after the last)", gt=0
    )
    LOGIN_MAX_DELAY_SECONDS: int = _setting(900, "the longest such wait", gt=0)
    PASSWORD_RESET_LINK_MAX_AGE: int = _setting(
        3600, "how long a password-reset link stays valid (it also dies once used)", shown="`3600` (1 hour)", gt=0
    )

    # Signed tokens and links: how long what was handed out stays valid (seconds).
    FORM_TOKEN_MAX_AGE: int = _setting(
        7 * 24 * 3600,
        "age after which a signed form token counts as expired (a signal, not a refusal)",
        shown="`604800` (7 days)",
        gt=0,
    )
    STATIC_TOKEN_MAX_AGE: int = _setting(
        400 * 24 * 3600,
        "age limit of the token printed into a pasted embed snippet (refreshed by embed.js when it runs)",
        shown="`34560000` (400 days)",
        gt=0,
    )
    FEEDBACK_LINK_MAX_AGE: int = _setting(
        180 * 24 * 3600,
        "how long the signed sales-feedback link in a forwarded lead stays valid",
        shown="`15552000` (180 days)",
        gt=0,
    )
    OPT_IN_CONFIRM_HOURS: int = _setting(
        72,
        "hours a visitor has to confirm marketing consent (double opt-in) by the e-mailed link; "
        "unconfirmed after them, no marketing destination ever receives the person from that form",
        gt=0,
    )

    # Jobs and the sweeper that re-enqueues lost work.
    JOB_TIMEOUT_SECONDS: int = _setting(
        120,
        "longest a screening or delivery job may run before RQ stops it; a job still `started` after this "
        "belongs to a dead worker (e.g. SIGKILL), so the sweeper enqueues the work again. Must exceed "
        "`DELIVERY_TIMEOUT_SECONDS` and `DNS_BUDGET_SECONDS`",
        gt=0,
    )
    SWEEP_AFTER_SECONDS: int = _setting(
        120, "a submission still `received` after this is re-enqueued by the sweeper", gt=0
    )
    SWEEP_INTERVAL_SECONDS: int = _setting(60, "how often each worker sweeps", gt=0)
    SCREENING_BATCH_SIZE: int = _setting(
        50,
        "most waiting submissions of one lane a worker screens in one work horse (one fork, one database "
        "connection, the lists read once; one transaction each); 1 screens each in a horse of its own",
        ge=1,
        le=1000,
    )

    # Lead scoring: fit and engagement, and the stage entry rules (screening/scoring.py, docs/leads-and-scoring.md).
    SCORE_MQL_ENGAGEMENT: int = _setting(15, "a prospect whose engagement reaches this becomes an MQL")
    SCORE_SQL_MIN_FIT: int = _setting(
        10,
        "a sales request (demo, contact sales) makes an SQL only from this fit on, and with no blocker "
        "(free-mail or role address, competitor, student …); below it, an MQL saying why",
    )
    SCORE_SQL_FIT: int = _setting(
        30, "without a sales request, SQL needs fit ≥ this and engagement ≥ `SCORE_SQL_ENGAGEMENT` (no blocker)"
    )
    SCORE_SQL_ENGAGEMENT: int = _setting(
        50, "without a sales request, SQL needs engagement ≥ this and fit ≥ `SCORE_SQL_FIT` (no blocker)"
    )
    SCORE_REPEAT_WINDOW_HOURS: float = _setting(
        24.0, "fills of the same form closer together than this count once for engagement", ge=0
    )
    SCORE_HALF_LIFE_DAYS: float = _setting(
        30.0, "engagement points halve every this many days after the fill (`0`: no decay)", ge=0
    )
    DUPLICATE_WINDOW_SECONDS: int = _setting(
        600,
        "the same person posting the same form again within this is one submission (double click, back "
        "button): stored and linked to the first, neither scored nor forwarded; `0` turns it off",
        ge=0,
    )
    SCORING_RULES: JsonObject = _setting(
        {},
        'overrides of the point tables and lists, e.g. `{"actions": {"webinar": 20}, "risks": {"role.account": -5}, '
        '"countries": {"de": 10}, "sql_blockers": ["competitor"]}`',
    )

    # Screening: DNS look-ups, blocklists, the verdict policy and bursts.
    DNS_ENABLED: Flag = _setting(True, "`false` skips the DNS checks altogether")
    DNS_NAMESERVERS: CommaList = _setting(
        [],
        "nameservers screening asks, e.g. `127.0.0.1:5353`",
        shown="empty (the system resolver)",
        kind="comma-separated list of IP[:port]",
    )
    DNS_TIMEOUT_SECONDS: float = _setting(2.0, "time one DNS query may take (retries included)", gt=0)
    DNS_BUDGET_SECONDS: float = _setting(4.0, "time all DNS look-ups of one screening may take together", gt=0)
    DNS_CANARY_DOMAIN: Annotated[str, AfterValidator(str.strip)] = _setting(
        "gmail.com",
        "a domain that surely receives mail; NXDOMAIN and no-mail answers count only while it "
        "resolves, so a resolver that knows only internal names makes them *unknown* (held), never rejections; "
        "empty turns the check off",
        keep_empty=True,
        kind="domain",
    )
    DNS_RETRY_AFTER_SECONDS: int = _setting(
        900,
        "a submission held only because DNS did not answer (`dns.unknown`) is screened again by the sweeper "
        "once its hold is this old; `0` turns it off",
        ge=0,
    )
    DNS_RETRY_LIMIT: int = _setting(
        3, "at most this many such retries; then it waits for a reviewer; `0` turns it off", ge=0
    )
    DNSBL_ZONES: CommaList = _setting([], "DNS blocklist zones asked about the submitter's IP", shown="empty (off)")
    CHALLENGE_VERIFY_URL_TURNSTILE: str = _setting(
        "https://challenges.cloudflare.com/turnstile/v0/siteverify", "Cloudflare Turnstile's siteverify API"
    )
    CHALLENGE_VERIFY_URL_HCAPTCHA: str = _setting("https://api.hcaptcha.com/siteverify", "hCaptcha's siteverify API")
    CHALLENGE_VERIFY_URL_RECAPTCHA: str = _setting(
        "https://www.google.com/recaptcha/api/siteverify", "reCAPTCHA v3's siteverify API"
    )
    CHALLENGE_TIMEOUT_SECONDS: float = _setting(
        3.0, "time-out of one challenge or Akismet check in the worker (no answer: held as unknown)", gt=0, le=30
    )
    AKISMET_API_KEY: SecretStr | None = _setting(None, "Akismet API key; forms that ask for the check need it")
    AKISMET_URL: str = _setting("https://rest.akismet.com/1.1/comment-check", "Akismet's comment-check API")
    SCREENING_POLICY: JsonObject = _setting(
        {}, 'overrides of the verdict policy, e.g. `{"actions": {"student": "mark"}, "hold_at": 60}`'
    )
    SCREENING_VELOCITY_WINDOW_SECONDS: int = _setting(600, "window for bursts from one IP or e-mail", gt=0)
    SCREENING_IP_BURST: int = _setting(10, "more submissions than this from one IP in the window is a burst", gt=0)
    SCREENING_EMAIL_BURST: int = _setting(
        5, "more submissions than this from one e-mail address in the window is a burst", gt=0
    )
    SCREENING_LISTS_TTL_SECONDS: float = _setting(
        5.0, "how long a worker reuses the admin lists before reading them again (`0`: every job)", ge=0
    )
    LEARNED_MODEL_ENABLED: Flag = _setting(
        True, "the spam model learned from reviewers' and sales' decisions adds findings (`false`: it only learns)"
    )
    LEARNED_MODEL_MIN_EXAMPLES: int = _setting(
        30, "decisions of each kind (spam, not spam) made here before the learned model adds a finding", ge=1
    )
    LEARNED_MODEL_THRESHOLD: float = _setting(
        0.95, "spam probability from which the learned model adds a finding (above 0.5, below 1)", gt=0.5, lt=1
    )
    DISPOSABLE_SOURCE_URLS: Annotated[list[str], BeforeValidator(_comma_list), AfterValidator(_http_urls)] = _setting(
        [],
        "more disposable-address lists (one domain a line, or a JSON array) that `leadsieve lists refresh` "
        "downloads into `instance/disposable/`; workers use them without a restart",
        shown="empty (the bundled lists only: screening/data/SOURCES.md)",
        kind="comma-separated list of URLs",
    )

    # Forwarding leads to destinations.
    DELIVERY_BACKOFF: Annotated[list[NonNegativeInt], BeforeValidator(_comma_list)] = _setting(
        [60, 300, 1800, 7200, 21600, 43200],
        "seconds before each retry of a failed delivery (1 min → 12 h); "
        "attempts = retries + 1, then the delivery is dead",
    )
    DELIVERY_TIMEOUT_SECONDS: float = _setting(10.0, "per-attempt time-out for HTTP and SMTP destinations", gt=0)
    ALLOWED_PRIVATE_DESTINATIONS: CommaList = _setting(
        [], "hosts/CIDRs that destinations may use although private or loopback (SSRF guard)"
    )
    SMTP_URL: SecretStr | None = _setting(
        None,
        "`smtp://host:port`, `smtps://…` or `smtp+starttls://user:pass@host:port` for e-mail destinations; "
        "`file:///some/dir` writes each lead e-mail there as an `.eml` file instead of sending it",
        shown="`file://…/instance/outbox` (nothing is sent); production: empty, e-mail deliveries fail saying so",
        kind="URL",
    )
    SMTP_FROM: str = _setting("leadsieve@localhost", "sender of lead e-mails", kind="e-mail address")

    # Observability: logs, /metrics, /readyz.
    LOG_LEVEL: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], _upper] = _setting(
        "INFO", "Python logging level"
    )
    LOG_FORMAT: Annotated[Literal["text", "json"] | None, _lower] = _setting(
        None, "log lines as text, or one JSON object per line", shown="`text` (`json` in production)"
    )
    METRICS_TOKEN: SecretStr | None = _setting(
        None, "when set, `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>`", shown="empty (open)"
    )
    READY_TIMEOUT_SECONDS: float = _setting(
        1.0, "how long `/readyz` waits for the database and for Redis (seconds each)", gt=0
    )

    # Alerts: conditions that need a person, sent to destinations marked for alerts (docs/operations.md#alerts).
    ALERT_QUEUE_AGE_HOURS: float = _setting(
        24.0, "an alert opens when the oldest held submission has waited longer than this", gt=0
    )
    ALERT_DNS_DOWN_MINUTES: float = _setting(
        5.0, "an alert opens when the DNS canary has not answered for this long", ge=0
    )
    ALERT_WORKERS_GONE_MINUTES: float = _setting(
        5.0, "an alert opens when a job has waited this long in a queue no live worker serves", ge=0
    )
    ALERT_FOREIGN_ORIGIN_HOURS: float = _setting(
        24.0, "window in which posts to a form from a site not on its allowed origins open an alert", gt=0
    )
    ALERT_FOREIGN_ORIGIN_MIN: int = _setting(1, "how many such posts in that window open the alert", gt=0)
    ALERT_REJECTION_SPIKE_FACTOR: float = _setting(
        3.0,
        "rejections in the last hour above this many times the hourly average of the 7 days before open an alert",
        gt=0,
    )
    ALERT_REJECTION_SPIKE_MIN: int = _setting(
        20, "…and only when the last hour had at least this many rejections", gt=0
    )
    ALERT_RESOLVE_AFTER_MINUTES: float = _setting(
        10.0, "an alert resolves once its condition has been clear this long (a flapping one is not re-sent)", ge=0
    )
    ALERT_DIGEST_HOUR: int = _setting(
        8,
        "hour of the day (in `ADMIN_TIME_ZONE`) the daily digest goes to destinations that chose it",
        kind="integer 0–23",
        ge=0,
        le=23,
    )

    # Speed to lead: the first-touch service level for SQLs (docs/leads-and-scoring.md#owners-and-speed-to-lead).
    SLA_FIRST_TOUCH_HOURS: float = _setting(
        2.0, "working hours sales has to first touch a new SQL before its breach is alerted (`0`: no clock)", ge=0
    )
    SLA_WORKING_DAYS: Annotated[CommaList, AfterValidator(_weekdays)] = _setting(
        ["mon", "tue", "wed", "thu", "fri"], "the days that count as working days", kind="comma-separated weekdays"
    )
    SLA_WORKING_HOURS: Annotated[str, AfterValidator(_working_hours)] = _setting(
        "09:00-17:00", "the working hours of each working day (`00:00-24:00`: round the clock)", kind="HH:MM-HH:MM"
    )
    SLA_TIME_ZONE: TimeZone = _setting(
        "UTC", "the time zone the working days and hours are meant in", kind="IANA time zone"
    )

    # The admin's clock.
    ADMIN_TIME_ZONE: TimeZone = _setting(
        "UTC",
        "the time zone admin pages show times in (an IANA name such as `Europe/Berlin`); stored times stay UTC",
        kind="IANA time zone",
    )

    # Privacy.
    RETENTION_REJECTED_DAYS: int = _setting(
        0, "purge rejected submissions older than this many days (`0`: keep forever)", ge=0
    )
    IP_TRUNCATE: Flag = _setting(False, "store client IPs truncated to /24 (IPv4) or /48 (IPv6)")

    # The first admin.
    ADMIN_EMAIL: str = _setting(
        "admin@example.com", "login of the admin created by `seed-demo` / `leadsieve run`", kind="e-mail address"
    )

    # --- checks across fields ---

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """ConfigError (not ValueError) so pydantic passes the message through unchanged."""
        slowest = max(self.DELIVERY_TIMEOUT_SECONDS, self.DNS_BUDGET_SECONDS)
        if self.JOB_TIMEOUT_SECONDS <= slowest:
            raise ConfigError(
                f"JOB_TIMEOUT_SECONDS ({self.JOB_TIMEOUT_SECONDS}) must be longer than "
                f"DELIVERY_TIMEOUT_SECONDS and DNS_BUDGET_SECONDS ({slowest:g})"
            )
        if self.LEADSIEVE_ENV == "production":
            problems = []
            if len(_plain(self.SECRET_KEY) or "") < 32:
                problems.append(
                    "SECRET_KEY: set a random value of at least 32 characters "
                    "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if (_plain(self.DATABASE_URL) or "sqlite").startswith("sqlite"):
                problems.append(
                    "DATABASE_URL: set a PostgreSQL URL, e.g. postgresql+psycopg://user:pass@host/leadsieve"
                )
            if self.REDIS_URL is None:
                problems.append("REDIS_URL: set the URL of a Redis server the web and worker processes share")
            if problems:
                raise ConfigError(
                    "leadsieve refuses to start in production with development defaults:\n  - "
                    + "\n  - ".join(problems)
                )
        return self

    # --- what the settings mean once defaults are derived ---

    @property
    def instance_path(self) -> Path:
        return (self.LEADSIEVE_INSTANCE or PROJECT_ROOT / "instance").resolve()

    @property
    def redis_url(self) -> str:
        return _plain(self.REDIS_URL) or f"unix://{self.instance_path / 'redis.sock'}"

    @property
    def log_format(self) -> str:
        return self.LOG_FORMAT or ("json" if self.LEADSIEVE_ENV == "production" else "text")

    @property
    def smtp_url(self) -> str:
        """Production gets no file outbox nobody reads: e-mail deliveries fail, saying why."""
        if self.SMTP_URL is not None:
            return self.SMTP_URL.get_secret_value()
        return "" if self.LEADSIEVE_ENV == "production" else (self.instance_path / "outbox").as_uri()

    def flask_config(self) -> dict[str, Any]:
        """The plain dict Flask gets. In development this writes the secret file the first time."""
        config = {name: _plain(getattr(self, name)) for name in type(self).model_fields}
        del config["LEADSIEVE_INSTANCE"]
        config["MAX_CONTENT_LENGTH"] = config.pop("MAX_BODY_BYTES")
        redis_url = self.redis_url
        config.update(
            INSTANCE_PATH=str(self.instance_path),
            SECRET_KEY=self._secret_key(),
            DATABASE_URL=_plain(self.DATABASE_URL) or f"sqlite:///{self.instance_path / 'leadsieve.db'}",
            REDIS_URL=redis_url,
            REDIS_EMBEDDED=self.REDIS_URL is None,
            # Flask-Limiter spells a unix-socket Redis as redis+unix://.
            RATELIMIT_STORAGE_URI=_plain(self.RATELIMIT_STORAGE_URI)
            or (redis_url.replace("unix://", "redis+unix://", 1) if redis_url.startswith("unix://") else redis_url),
            SMTP_URL=self.smtp_url,
            METRICS_TOKEN=config["METRICS_TOKEN"] or "",
            LOG_FORMAT=self.log_format,
            SESSION_COOKIE_SECURE=self.SESSION_COOKIE_SECURE or self.LEADSIEVE_ENV == "production",
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            # The signed cookie expires with the longest session (Flask's default is 31 days).
            PERMANENT_SESSION_LIFETIME=self.ADMIN_SESSION_MAX_HOURS * 3600,
        )
        if self.LEADSIEVE_ENV == "testing":
            config["TESTING"] = True
        return config

    def _secret_key(self) -> str:
        if self.SECRET_KEY is not None:
            return self.SECRET_KEY.get_secret_value()
        if self.LEADSIEVE_ENV == "testing":  # tests set what they need and never write a secret file
            return "test-secret-key-not-for-production"
        return dev_secret_key(self.instance_path)  # production never gets here: refused above

    # --- reading the environment ---

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Validate `environ` (default: os.environ) and nothing else; ConfigError says what is wrong."""
        environ = os.environ if environ is None else environ
        try:
            return cls.model_validate(cls.given(environ))
        except ValidationError as exc:
            raise config_error(exc, environ) from None

    @classmethod
    def given(cls, environ: Mapping[str, str]) -> dict[str, str]:
        """The variables `environ` sets; an empty one means "use the default" unless it is a value there."""
        values = {}
        for name, field in cls.model_fields.items():
            raw = environ.get(name)
            if raw is not None and (raw.strip() or _extra(field).get("keep_empty")):
                values[name] = raw
        return values

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """`Settings()` reads os.environ exactly like from_environ (comma lists, empty = default); no .env file."""
        return init_settings, _Environ(settings_cls)


class _Environ(PydanticBaseSettingsSource):
    """os.environ read by Settings.given, for `Settings()`; pydantic-settings' own env source would want
    JSON for lists and take an empty variable as a value."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return os.environ.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return Settings.given(os.environ)


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings for the environment named by LEADSIEVE_ENV (default: development), as Flask's dict."""
    return Settings.from_environ(environ).flask_config()


class _Preset:
    """`TestConfig.from_env(...)` etc.: load_config with LEADSIEVE_ENV fixed (kept for the tests and callers)."""

    ENV_NAME = "development"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        return load_config({**(os.environ if environ is None else environ), "LEADSIEVE_ENV": cls.ENV_NAME})


class Config(_Preset):
    ENV_NAME = "development"


class TestConfig(_Preset):
    ENV_NAME = "testing"


class ProductionConfig(_Preset):
    ENV_NAME = "production"


# --- Messages and the generated table ----------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Unwrap secrets (also inside lists) and paths for Flask, which wants plain values."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def _a(kind: str) -> str:
    """'an integer > 0', 'a boolean …', but 'one of …' and 'comma-separated list' as they are."""
    if kind.startswith(("one of", "comma-separated")):
        return kind
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(_is_secret(arg) for arg in get_args(annotation))


def _describe(annotation: Any, metadata: list[Any]) -> str:
    """What a value must look like, from the annotation and its constraints: 'integer > 0', 'one of …'."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _describe(args[0], [*args[1:], *metadata])
    if origin in (Union, UnionType):
        return _describe(next(arg for arg in args if arg is not type(None)), metadata)
    if origin is Literal:
        return "one of " + ", ".join(str(arg) for arg in args)
    if origin is list:
        item = _describe(args[0], [])
        return "comma-separated list" + ("" if item == "string" else f" (each {_a(item)})")
    if origin is dict:
        return "JSON object"
    bounds = "".join(
        f" > {item.gt}" if isinstance(item, annotated_types.Gt) else f" ≥ {item.ge}"
        for item in metadata
        if isinstance(item, annotated_types.Gt | annotated_types.Ge)
    )
    names = {bool: "boolean (true/false, 1/0, yes/no, on/off)", int: "integer", float: "number", SecretStr: "string"}
    return names.get(annotation, "string") + bounds


def allowed(field: FieldInfo) -> str:
    """The type/allowed-values text of one setting, as the table and the error messages show it."""
    text = _extra(field).get("kind") or _describe(field.annotation, field.metadata)
    return text + (" (secret)" if _is_secret(field.annotation) else "")


# Errors whose only explanation is "expected <allowed>"; for the others pydantic's message is added.
_SELF_EXPLAINED = {
    "strict_bool",
    "int_parsing",
    "int_type",
    "int_from_float",
    "float_parsing",
    "float_type",
    "literal_error",
    "greater_than",
    "greater_than_equal",
    "dict_type",
    "list_type",
    "string_type",
}


def config_error(exc: ValidationError, environ: Mapping[str, str]) -> ConfigError:
    """One line per bad variable: its name, what is allowed, and what was given (never a secret)."""
    lines: dict[str, str] = {}  # one line per variable
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        field = Settings.model_fields.get(name)
        if field is None or name in lines:
            lines.setdefault(name, error["msg"])
            continue
        given = "a hidden value" if _is_secret(field.annotation) else repr(environ.get(name, error["input"]))
        line = f"{name}: expected {_a(allowed(field))}, got {given}"
        if error["type"] not in _SELF_EXPLAINED:
            line += f" ({error['msg']})"
        lines[name] = line
    return ConfigError("\n".join(lines.values()))


def _shown_default(field: FieldInfo) -> str:
    shown = _extra(field).get("shown")
    if shown:
        return str(shown)
    default = field.default
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, list):
        return f"`{','.join(str(item) for item in default)}`" if default else "empty"
    if isinstance(default, dict):
        return f"`{json.dumps(default)}`"
    if isinstance(default, float) and default.is_integer():
        return f"`{int(default)}`"
    return "empty" if default in (None, "") else f"`{default}`"


def settings_table() -> str:
    """Markdown table of every setting: variable, type/allowed values, default, description."""
    rows = ["| variable | type / allowed values | default | description |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        cells = [f"`{name}`", allowed(field), _shown_default(field), field.description or ""]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"


def with_table(document: str) -> str:
    """`document` with the text between the settings-table markers replaced by the generated table."""
    head, start, rest = document.partition(TABLE_START)
    _, end, tail = rest.partition(TABLE_END)
    if not start or not end:
        raise ConfigError(f"the markers {TABLE_START} and {TABLE_END} are missing")
    return f"{head}{TABLE_START}\n{settings_table()}{TABLE_END}{tail}"


def _main(argv: list[str]) -> int:
    """python -m config table | docs [PATH] | check"""
    command = argv[0] if argv else "table"
    if command == "table":
        sys.stdout.write(settings_table())
    elif command == "docs":
        path = Path(argv[1]) if len(argv) > 1 else DOCS_PATH
        path.write_text(with_table(path.read_text()))
        print(f"settings table written to {path}")
    elif command == "check":  # validate this environment without starting anything
        try:
            Settings.from_environ()
        except ConfigError as exc:
            print(f"leadsieve: {exc}", file=sys.stderr)
            return 2
        print("settings are valid")
    else:
        print("usage: python -m config [table | docs [PATH] | check]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
