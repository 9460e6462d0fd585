"""Escrow settings: the gateway choice and the fee rates are checked when the app is built."""
from __future__ import annotations

import pytest

from market.config import ConfigError, load_config


def test_defaults_and_per_category_fee_rates(monkeypatch):
    monkeypatch.setenv("PLATFORM_FEE_BPS_BY_CATEGORY", "hw08:50, HW49:150")
    cfg = load_config({"SECRET_KEY": "x"})
    assert cfg["PAYMENT_GATEWAY"] == "bank" and cfg["PLATFORM_FEE_BPS"] == 100
    assert cfg["PLATFORM_FEE_BPS_BY_CATEGORY"] == {"HW08": 50, "HW49": 150}


@pytest.mark.parametrize("env", [{"PLATFORM_FEE_BPS_BY_CATEGORY": "HW08=50"},
                                 {"PLATFORM_FEE_BPS_BY_CATEGORY": "HW08:10001"},
                                 {"PAYMENT_GATEWAY": "paypal"},
                                 {"PLATFORM_FEE_BPS": "-1"}])
def test_bad_settings_fail_fast(monkeypatch, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError):
        load_config({"SECRET_KEY": "x"})


def test_stripe_in_production_needs_its_secrets(monkeypatch):
    for key in ("STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ConfigError, match="STRIPE_API_KEY"):
        load_config({"HAZEX_ENV": "production", "SECRET_KEY": "x", "DATABASE_URL": "postgres://x",
                     "REDIS_URL": "redis://x", "PAYMENT_GATEWAY": "stripe"})
