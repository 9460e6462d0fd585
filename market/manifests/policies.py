"""Pure rules of manifests: plate and phone formats, weight tolerances, discrepancies, numbers.

No database, no Flask: each function takes values and returns a value or a problem word that the
service turns into a message naming the field.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

# 省、自治区、直辖市 abbreviations that start a Chinese plate.
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_ALNUM = "A-HJ-NP-Z0-9"  # plate serials never use I or O
PLATE = re.compile(
    rf"^[{PROVINCES}][A-Z]"
    rf"(?:[{_ALNUM}]{{5}}"                # 粤B12345, 粤BA1234
    rf"|[DF][{_ALNUM}][0-9]{{4}}"         # small new-energy: 粤BD12345
    rf"|[0-9]{{5}}[DF]"                   # large new-energy: 粤B12345D
    rf"|[{_ALNUM}]{{4}}挂)$")             # trailer: 粤B1234挂
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

RECEIVED_MAX_PCT = 120        # received may not exceed sent + 20 %
DRIVER_CODE_DIGITS = 6
DRIVER_CODE_MINUTES = 15
DRIVER_CODE_MAX_FAILURES = 5


def normalise_plate(value: str) -> str:
    """Upper case, without the blanks and middle dots people type (粤B·12345 → 粤B12345)."""
    return re.sub(r"[\s·.\-]", "", value or "").upper()


def plate_ok(plate: str) -> bool:
    return bool(PLATE.match(plate))


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[\s\-()]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
    return digits


def phone_ok(phone: str) -> bool:
    return bool(MOBILE.match(phone))


def email_ok(value: str) -> bool:
    return bool(EMAIL.match(value or "")) and len(value) <= 254


def shipping_limit_kg(contract_kg: int, tolerance_pct: int) -> int:
    """The most an order may ship in total: the contract quantity plus its tolerance (floored)."""
    return contract_kg * (100 + tolerance_pct) // 100


def received_too_high(sent_kg: int, received_kg: int) -> bool:
    return received_kg * 100 > sent_kg * RECEIVED_MAX_PCT


def discrepancy_kind(sent_kg: int, received_kg: int, refused_kg: int,
                     tolerance_pct: int) -> str | None:
    """'refusal' when any kg was refused, 'weight' when received differs from sent by more than
    the tolerance, None otherwise."""
    if refused_kg > 0:
        return "refusal"
    if abs(received_kg - sent_kg) * 100 > sent_kg * tolerance_pct:
        return "weight"
    return None


def beyond_tolerance(sent_kg: int, received_kg: int, tolerance_pct: int) -> bool:
    return abs(received_kg - sent_kg) * 100 > sent_kg * tolerance_pct


def city_code(region_code: str) -> str:
    """Province and city digits (PPCC) of a GB/T 2260 region code."""
    if len(region_code) < 4 or not region_code[:4].isdigit():
        raise ValueError(f"not a region code: {region_code!r}")
    return region_code[:4]


def manifest_number(year: int, city: str, serial: int) -> str:
    if not 1 <= serial <= 999_999:
        raise ValueError("manifest serials run from 1 to 999999 per city and year")
    return f"{year:04d}{city}{serial:06d}"


def new_driver_code() -> str:
    return f"{secrets.randbelow(10 ** DRIVER_CODE_DIGITS):0{DRIVER_CODE_DIGITS}d}"


def hash_driver_code(secret: str, manifest_id: int, code: str) -> str:
    """HMAC-SHA256 keyed by the app secret and bound to the manifest: a leaked table reveals no
    code, and a code of one manifest never signs another."""
    msg = f"{manifest_id}:{code}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def code_matches(secret: str, manifest_id: int, code: str, code_hash: str) -> bool:
    return hmac.compare_digest(hash_driver_code(secret, manifest_id, code), code_hash)


def driver_code_expiry(now: datetime) -> datetime:
    return now + timedelta(minutes=DRIVER_CODE_MINUTES)


def driver_code_format_ok(code: str) -> bool:
    return isinstance(code, str) and len(code) == DRIVER_CODE_DIGITS and code.isdigit()
