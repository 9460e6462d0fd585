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
        # Failed logins (form and API token) per account, then a wait with Retry-After; and per
        # client address, generously, so an office behind one NAT address is never locked out.
        # Successful logins are not counted.
        "LOGIN_FAILURES_PER_ACCOUNT": env.get("LOGIN_FAILURES_PER_ACCOUNT", "5 per 15 minutes"),
        "LOGIN_FAILURES_PER_ADDRESS": env.get("LOGIN_FAILURES_PER_ADDRESS", "100 per minute"),
        # A browser session ends after this many minutes without a request; forms expire with it.
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", 60)),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (ProxyFix).
        "TRUSTED_PROXY_COUNT": int(env.get("TRUSTED_PROXY_COUNT", 0)),
        "PASSWORD_RESET_MAX_AGE": int(env.get("PASSWORD_RESET_MAX_AGE", 3600)),
        "API_TOKEN_HOURS": int(env.get("API_TOKEN_HOURS", 12)),
        # Requests per token and window (seconds) on /api/v1, e.g. "600/60".
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "600/60"),
        "OUTBOX_RESEND_AFTER_SECONDS": int(env.get("OUTBOX_RESEND_AFTER_SECONDS", 30)),
        "EXPIRY_REMINDER_DAYS": (60, 30, 7),
        # Requests up to this weight may also match licensed collectors (收集), who serve small generators.
        "SMALL_LOT_KG": int(env.get("SMALL_LOT_KG", 1000)),
        # Escrow (DESIGN.md §6): which gateway takes payments, the custody account payers wire to,
        # and the platform fee in basis points (per-category overrides as "HW08:50,HW49:150").
        "PAYMENT_GATEWAY": env.get("PAYMENT_GATEWAY", "bank"),
        "CUSTODY_ACCOUNT_NAME": env.get("CUSTODY_ACCOUNT_NAME", "Hazex 平台资金监管账户"),
        "CUSTODY_ACCOUNT_NUMBER": env.get("CUSTODY_ACCOUNT_NUMBER", "4000 0000 0000 0000 000"),
        "CUSTODY_BANK": env.get("CUSTODY_BANK", "中国工商银行深圳分行"),
        # Reconciliation: a statement file above this many lines or bytes is imported by a job
        # whose progress the desk shows; smaller ones are imported while the finance user waits.
        "RECON_JOB_LINES": int(env.get("RECON_JOB_LINES", "2000")),
        "RECON_JOB_BYTES": int(env.get("RECON_JOB_BYTES", str(1024 * 1024))),
        "PLATFORM_FEE_BPS": int(env.get("PLATFORM_FEE_BPS", "100")),
        "PLATFORM_FEE_BPS_BY_CATEGORY": _bps_map(env.get("PLATFORM_FEE_BPS_BY_CATEGORY", "")),
        # Settlement (DESIGN.md §5): the share of the disposal line kept until the operator
        # uploads the disposal certificate, in basis points (default none).
        "SETTLEMENT_RETENTION_BPS": int(env.get("SETTLEMENT_RETENTION_BPS", "0")),
        # Payout batches: an organisation is paid out once its payable reaches this (fen).
        "PAYOUT_MINIMUM_FEN": int(env.get("PAYOUT_MINIMUM_FEN", "10000")),
        # Price index (DESIGN.md §7): categories priced by a government tariff (excluded from the
        # index, quotes must equal the tariff), the publication day of each month, the cost floor
        # per method group in fen/t ("D10:150000,D1:100000"; none by default) and the share of a
        # party's own recent median below which a price raises the own-history alert.
        "GOVERNMENT_PRICED_CATEGORIES": tuple(
            c.strip() for c in env.get("GOVERNMENT_PRICED_CATEGORIES", "HW01").split(",") if c.strip()),
        "PRICE_PUBLICATION_DAY": int(env.get("PRICE_PUBLICATION_DAY", "15")),
        "PRICE_COST_FLOORS": _fen_map(env.get("PRICE_COST_FLOORS", "")),
        "PRICE_OWN_HISTORY_PCT": int(env.get("PRICE_OWN_HISTORY_PCT", "50")),
        "STRIPE_API_KEY": env.get("STRIPE_API_KEY"),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET"),
        # None: the real api.stripe.com; tests point it at localstripe or a local fake.
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE"),
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY"),
        "STRIPE_CURRENCY": env.get("STRIPE_CURRENCY", "cny"),
        # Manifests (DESIGN.md §5): received vs sent beyond this share opens a discrepancy; the
        # provincial solid-waste system is reached through the `file` (default) or `http` gateway.
        "MANIFEST_WEIGHT_TOLERANCE_PCT": int(env.get("MANIFEST_WEIGHT_TOLERANCE_PCT", "5")),
        # Collection rounds: what a no-show (or a cancellation after the booking deadline) costs.
        "COLLECTION_NO_SHOW_FEE_FEN": int(env.get("COLLECTION_NO_SHOW_FEE_FEN", "5000")),
        "PROVINCIAL_GATEWAY": env.get("PROVINCIAL_GATEWAY", "file"),
        "PROVINCIAL_DIR": env.get("PROVINCIAL_DIR", str(instance / "provincial")),
        "PROVINCIAL_URL": env.get("PROVINCIAL_URL"),
        "PROVINCIAL_TOKEN": env.get("PROVINCIAL_TOKEN"),
        "PROVINCIAL_TIMEOUT": float(env.get("PROVINCIAL_TIMEOUT", "10")),
        "WTF_CSRF_ENABLED": True,
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
        if cfg["PAYMENT_GATEWAY"] == "stripe":
            missing = [k for k in ("STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET") if not cfg.get(k)]
            if missing:
                raise ConfigError(f"PAYMENT_GATEWAY=stripe needs {', '.join(missing)} set")
    if cfg["PAYMENT_GATEWAY"] not in ("bank", "stripe"):
        raise ConfigError(f"PAYMENT_GATEWAY must be bank or stripe, not {cfg['PAYMENT_GATEWAY']!r}")
    if not 0 <= cfg["PLATFORM_FEE_BPS"] <= 10_000:
        raise ConfigError("PLATFORM_FEE_BPS must be between 0 and 10000")
    if not 0 <= cfg["SETTLEMENT_RETENTION_BPS"] <= 10_000:
        raise ConfigError("SETTLEMENT_RETENTION_BPS must be between 0 and 10000")
    if cfg["PROVINCIAL_GATEWAY"] not in ("file", "http"):
        raise ConfigError("PROVINCIAL_GATEWAY must be file or http, "
                          f"not {cfg['PROVINCIAL_GATEWAY']!r}")
    if cfg["PROVINCIAL_GATEWAY"] == "http" and not cfg.get("PROVINCIAL_URL"):
        raise ConfigError("PROVINCIAL_GATEWAY=http needs PROVINCIAL_URL")
    if not 1 <= cfg["PRICE_PUBLICATION_DAY"] <= 28:
        raise ConfigError("PRICE_PUBLICATION_DAY must be a day from 1 to 28")
    if not 0 <= cfg["MANIFEST_WEIGHT_TOLERANCE_PCT"] <= 100:
        raise ConfigError("MANIFEST_WEIGHT_TOLERANCE_PCT must be between 0 and 100")
    elif not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = _dev_secret(instance)
    cfg["MAX_CONTENT_LENGTH"] = cfg["MAX_UPLOAD_BYTES"] + 1024 * 1024
    if cfg["SESSION_IDLE_MINUTES"] < 1:
        raise ConfigError("SESSION_IDLE_MINUTES must be at least 1")
    if cfg["TRUSTED_PROXY_COUNT"] < 0:
        raise ConfigError("TRUSTED_PROXY_COUNT must be 0 or more")
    # A form's CSRF token expires with the session it belongs to (it is renewed at each login).
    cfg.setdefault("WTF_CSRF_TIME_LIMIT", cfg["SESSION_IDLE_MINUTES"] * 60)
    return cfg


def _fen_map(value: str) -> dict[str, int]:
    """Parse "D10:150000,D1:100000" (method group: fen per tonne); fail fast on anything else."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        group, sep, fen = part.partition(":")
        if not sep or not fen.strip().isdigit():
            raise ConfigError(f"PRICE_COST_FLOORS: {part!r} is not GROUP:FEN_PER_TONNE")
        out[group.strip()] = int(fen)
    return out


def _bps_map(value: str) -> dict[str, int]:
    """Parse "HW08:50,HW49:150" into {"HW08": 50, "HW49": 150}; fail fast on anything else."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        category, sep, bps = part.partition(":")
        if not sep or not bps.strip().isdigit() or int(bps) > 10_000:
            raise ConfigError(f"PLATFORM_FEE_BPS_BY_CATEGORY: {part!r} is not CATEGORY:BPS (0-10000)")
        out[category.strip().upper()] = int(bps)
    return out


def _dev_secret(instance: Path) -> str:
    """A per-checkout random key, so development sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
    return path.read_text().strip()


def is_ci() -> bool:
    return _bool(os.environ.get("CI"))
