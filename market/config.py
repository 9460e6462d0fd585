"""Every environment read of the application lives here."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment, then apply explicit overrides."""
    env = os.environ
    hazex_env = env.get("HAZEX_ENV", "development")
    instance = Path(env.get("HAZEX_INSTANCE", ROOT / "instance"))
    cfg: dict = {
        "HAZEX_ENV": hazex_env,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": env.get("SECRET_KEY"),
        "DATABASE_URL": env.get("DATABASE_URL"),
        "REDIS_URL": env.get("REDIS_URL"),
        "UPLOAD_DIR": env.get("UPLOAD_DIR", str(instance / "uploads")),
        "MAX_UPLOAD_BYTES": int(env.get("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)),
        "SMTP_HOST": env.get("SMTP_HOST"),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USER": env.get("SMTP_USER"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "MAIL_FROM": env.get("MAIL_FROM", "noreply@hazex.cn"),
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000"),
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "PASSWORD_RESET_MAX_AGE": int(env.get("PASSWORD_RESET_MAX_AGE", 3600)),
        "API_TOKEN_HOURS": int(env.get("API_TOKEN_HOURS", 12)),
        "OUTBOX_RESEND_AFTER_SECONDS": int(env.get("OUTBOX_RESEND_AFTER_SECONDS", 30)),
        "EXPIRY_REMINDER_DAYS": (60, 30, 7),
        # Requests up to this weight may also match licensed collectors (收集), who serve small generators.
        "SMALL_LOT_KG": int(env.get("SMALL_LOT_KG", 1000)),
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": hazex_env == "production",
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ("zh_CN", "en"),
        "TESTING": False,
    }
    cfg.update(overrides or {})

    if cfg["HAZEX_ENV"] == "production":
        missing = [k for k in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL") if not cfg.get(k)]
        if missing:
            raise ConfigError(f"production needs {', '.join(missing)} set in the environment")
        cfg["SESSION_COOKIE_SECURE"] = True
    elif not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = _dev_secret(instance)
    cfg["MAX_CONTENT_LENGTH"] = cfg["MAX_UPLOAD_BYTES"] + 1024 * 1024
    return cfg


def _dev_secret(instance: Path) -> str:
    """A per-checkout random key, so development sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
    return path.read_text().strip()


def is_ci() -> bool:
    return _bool(os.environ.get("CI"))
