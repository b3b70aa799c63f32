"""Settings read once from ``CASEFILE_*`` environment variables.

In production mode a missing secret refuses to start; in development the secrets are
generated once into the instance folder (mode 0600) so ``make run`` works on a fresh clone.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from casefile.evidence.storage import has_key_check


class ConfigError(RuntimeError):
    """The environment does not describe a runnable instance."""


@dataclass(frozen=True)
class Settings:
    """Everything the factory needs, typed and immutable."""

    instance_path: Path
    database_url: str
    secret_key: str
    master_key_file: Path
    production: bool = False
    https: bool = False
    redis_url: str | None = None
    idle_timeout: timedelta = timedelta(minutes=30)
    session_max_age: timedelta = timedelta(hours=12)
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    argon2_parallelism: int = 2
    audit_failed_login_burst: int = 5
    audit_views_per_hour: int = 50
    evidence_dir: Path | None = None
    evidence_max_bytes: int = 500 * 1024 * 1024
    import_max_bytes: int = 20 * 1024 * 1024
    # Imports of more rows, and packets of more cases, run as background jobs.
    import_job_rows: int = 1000
    packet_job_cases: int = 500
    # Roles that must use a second factor (TOTP) before they can do anything else.
    totp_required_roles: frozenset[str] = frozenset({"coordinator", "auditor", "admin"})
    lockout_failures: int = 10
    lockout_window: timedelta = timedelta(minutes=15)
    lockout_duration: timedelta = timedelta(minutes=15)
    # Failed login attempts per client address (Flask-Limiter notation).
    login_rate_limit: str = "30 per 15 minutes"
    reauth_window: timedelta = timedelta(minutes=5)
    trusted_proxies: int = 0
    organisation_name: str = ""
    organisation_contact: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)

    def flask_config(self) -> dict[str, object]:
        """The Flask/extension configuration keys derived from these settings."""
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(self.database_url),
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.https,
            "SESSION_COOKIE_NAME": "casefile_session",
            # The cookie lives at most as long as a session may; idle time is checked per request.
            "PERMANENT_SESSION_LIFETIME": self.session_max_age,
            "CASEFILE_IDLE_TIMEOUT": self.idle_timeout,
            "CASEFILE_SESSION_MAX_AGE": self.session_max_age,
            "CASEFILE_AUDIT_FAILED_LOGIN_BURST": self.audit_failed_login_burst,
            "CASEFILE_AUDIT_VIEWS_PER_HOUR": self.audit_views_per_hour,
            "CASEFILE_IMPORT_JOB_ROWS": self.import_job_rows,
            "CASEFILE_PACKET_JOB_CASES": self.packet_job_cases,
            # Background jobs go to RQ on this Redis; without one they run in a thread of the app.
            "CASEFILE_JOBS_REDIS_URL": self.redis_url,
            # Rate-limit counters live in Redis when there is one, so every worker shares them.
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_HEADERS_ENABLED": False,
            # Redis down: count in this process rather than refuse every login.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_SWALLOW_ERRORS": True,
            "SESSION_REFRESH_EACH_REQUEST": True,
            "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
            "WTF_CSRF_ENABLED": True,
            # Pages send no Referer (Referrer-Policy: no-referrer), so the HTTPS Referer check
            # would refuse every form; the signed token and SameSite cookie carry the protection.
            "WTF_CSRF_SSL_STRICT": False,
            "WTF_CSRF_TIME_LIMIT": None,
            "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
            "BABEL_DEFAULT_LOCALE": "en",
            "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
            "CASEFILE_SETTINGS": self,
            **dict(self.extra),
        }


def engine_options(url: str) -> dict[str, object]:
    """Pool options per backend: SQLite waits for its single writer instead of failing."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _read_or_create_secret(path: Path, nbytes: int, production: bool, what: str) -> bytes:
    if path.exists():
        data = path.read_bytes().strip()
        if not data:
            raise ConfigError(f"{what} file {path} is empty.")
        return data
    if production:
        raise ConfigError(f"{what} file {path} does not exist (set CASEFILE_{what.upper().replace(' ', '_')}_FILE).")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = secrets.token_hex(nbytes).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data + b"\n")
    return data


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default)).strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1.")
    return int(raw)


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default)).strip()
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more).")
    return int(raw)


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read ``CASEFILE_*`` once. Raises ConfigError with one clear line when unusable."""
    env = os.environ if env is None else env
    mode = env.get("CASEFILE_ENV", "development").strip().lower()
    if mode not in ("development", "production"):
        raise ConfigError("CASEFILE_ENV must be 'development' or 'production'.")
    production = mode == "production"
    instance = Path(env.get("CASEFILE_INSTANCE", "instance")).resolve()
    # Only the service's user may enter the instance folder: it holds the database and the keys.
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)

    database_url = env.get("CASEFILE_DATABASE_URL") or f"sqlite:///{instance / 'casefile.sqlite3'}"
    for scheme in ("postgresql://", "postgres://"):
        if database_url.startswith(scheme):
            database_url = "postgresql+psycopg://" + database_url.removeprefix(scheme)

    secret_key = env.get("CASEFILE_SECRET_KEY", "")
    if not secret_key:
        if production:
            raise ConfigError("CASEFILE_SECRET_KEY is required in production.")
        secret_key = _read_or_create_secret(instance / "secret_key", 32, False, "secret key").decode()
    elif len(secret_key) < 32:
        raise ConfigError("CASEFILE_SECRET_KEY must be at least 32 characters.")

    master_key_file = Path(env.get("CASEFILE_MASTER_KEY_FILE") or instance / "master.key").resolve()
    evidence_dir = Path(env.get("CASEFILE_EVIDENCE_DIR") or instance / "evidence").resolve()
    if not master_key_file.exists() and has_key_check(evidence_dir):
        # A fresh key would make every stored file unreadable: refuse instead of generating one.
        raise ConfigError(f"Master key file {master_key_file} is missing, but the evidence store {evidence_dir} "
                          "was written with a master key. Put that key file back (from your backup).")
    master_key = _read_or_create_secret(master_key_file, 32, production, "master key")
    if production and master_key_file.stat().st_mode & 0o077:
        raise ConfigError(f"Master key file {master_key_file} can be read by other users: chmod 600 it.")
    try:
        if len(bytes.fromhex(master_key.decode())) != 32:
            raise ValueError
    except ValueError as exc:
        raise ConfigError(f"Master key file {master_key_file} must hold 64 hexadecimal characters.") from exc

    try:
        idle_minutes = int(env.get("CASEFILE_IDLE_TIMEOUT_MINUTES", "30"))
    except ValueError as exc:
        raise ConfigError("CASEFILE_IDLE_TIMEOUT_MINUTES must be a whole number.") from exc
    if idle_minutes < 1:
        raise ConfigError("CASEFILE_IDLE_TIMEOUT_MINUTES must be at least 1.")
    try:
        max_hours = int(env.get("CASEFILE_SESSION_MAX_HOURS", "12"))
    except ValueError as exc:
        raise ConfigError("CASEFILE_SESSION_MAX_HOURS must be a whole number.") from exc
    if not 1 <= max_hours <= 24 * 7:
        raise ConfigError("CASEFILE_SESSION_MAX_HOURS must be between 1 and 168.")

    burst = _positive_int(env, "CASEFILE_AUDIT_FAILED_LOGIN_BURST", 5)
    views_per_hour = _positive_int(env, "CASEFILE_AUDIT_VIEWS_PER_HOUR", 50)
    evidence_max_mb = _positive_int(env, "CASEFILE_EVIDENCE_MAX_MB", 500)
    import_max_mb = _positive_int(env, "CASEFILE_IMPORT_MAX_MB", 20)
    required = env.get("CASEFILE_TOTP_REQUIRED_ROLES", "coordinator,auditor,admin")
    totp_roles = frozenset(part.strip().lower() for part in required.split(",") if part.strip())
    unknown = totp_roles - {"advocate", "coordinator", "auditor", "admin"}
    if unknown:
        raise ConfigError(f"CASEFILE_TOTP_REQUIRED_ROLES names unknown roles: {', '.join(sorted(unknown))}.")
    rate_limit = env.get("CASEFILE_LOGIN_RATE_LIMIT", "30 per 15 minutes").strip()
    try:
        from limits import parse_many

        parse_many(rate_limit)
    except ValueError as exc:
        raise ConfigError("CASEFILE_LOGIN_RATE_LIMIT must read like '30 per 15 minutes'.") from exc

    values: dict[str, object] = {
        "instance_path": instance,
        "database_url": database_url,
        "secret_key": secret_key,
        "master_key_file": master_key_file,
        "production": production,
        "https": _flag(env, "CASEFILE_HTTPS"),
        "redis_url": env.get("CASEFILE_REDIS_URL") or None,
        "idle_timeout": timedelta(minutes=idle_minutes),
        "session_max_age": timedelta(hours=max_hours),
        "audit_failed_login_burst": burst,
        "audit_views_per_hour": views_per_hour,
        "evidence_dir": evidence_dir,
        "evidence_max_bytes": evidence_max_mb * 1024 * 1024,
        "import_max_bytes": import_max_mb * 1024 * 1024,
        "import_job_rows": _count(env, "CASEFILE_IMPORT_JOB_ROWS", 1000),
        "packet_job_cases": _count(env, "CASEFILE_PACKET_JOB_CASES", 500),
        "totp_required_roles": totp_roles,
        "login_rate_limit": rate_limit,
        "trusted_proxies": _count(env, "CASEFILE_TRUSTED_PROXIES", 0),
        "organisation_name": env.get("CASEFILE_ORGANISATION_NAME", "").strip(),
        # Several lines (address, phone, e-mail): "\n" in the variable starts a new line.
        "organisation_contact": env.get("CASEFILE_ORGANISATION_CONTACT", "").replace("\\n", "\n").strip(),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
