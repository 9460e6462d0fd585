"""The zh_CN catalogue translates every UI string, with the same placeholders.

Extraction runs here exactly like
`pybabel extract -F babel.cfg -k _l -k lazy_gettext -k message -k as_word`, so a new `_()` string without a Chinese translation fails the suite. Reads the .po files only (the .mo files
are build output). Strings that reach `_()` only at run time — policy reasons, status, action and
type words — cannot be extracted from where they are used; they are listed in
market/translations/runtime_msgids.py, and the tests below derive them from the code so that a new
reason or status is caught too.

To fix a failure:
    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k message -k as_word \
        -o market/translations/messages.pot .
    .venv/bin/pybabel update -i market/translations/messages.pot -d market/translations
then translate the new entries in market/translations/zh_CN/LC_MESSAGES/messages.po.
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from stdnum import exceptions as stdnum_exceptions

from market.accounts import policies

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "market" / "translations"
ZH_PO = TRANSLATIONS / "zh_CN" / "LC_MESSAGES" / "messages.po"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
# message("…", x=…) and as_word("…") (market/notifications/messages.py) carry msgids translated
# when a notification is read; they are extracted like _() so a missing entry fails here too.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "message": None, "as_word": None}

# %(name)s, %(n)d, %(x)-5.2f ... and the escaped percent sign
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +\-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _skip_dirs(path: str) -> bool:
    """Like pybabel's default filter: no hidden directories, virtualenvs or caches."""
    name = Path(path).name
    return not (name.startswith((".", "_")) or name in {"node_modules", "instance"})


@cache
def extracted() -> dict[str, list[str]]:
    """msgid → locations, as `pybabel extract -F babel.cfg -k _l -k lazy_gettext -k message
    -k as_word .` finds them."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_skip_dirs):
        msgid = message[0] if isinstance(message, (tuple, list)) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


@cache
def catalogue(path: Path = ZH_PO) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f)


def translation(msgid: str, path: Path = ZH_PO, context: str | None = None) -> str | tuple | None:
    """The usable translation of msgid, or None if missing, empty, fuzzy or obsolete."""
    msg = catalogue(path).get(msgid, context=context)
    if msg is None or msg.fuzzy:
        return None
    strings = msg.string if isinstance(msg.string, (tuple, list)) else (msg.string,)
    return msg.string if strings and all(strings) else None


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text))


# --- (a) every extracted string is translated --------------------------------------------------

def test_extraction_finds_the_ui_strings():
    found = extracted()
    # a sanity check that the method map (Python and Jinja) and the extra keywords work
    assert "Log in" in found  # template
    assert "E-mail" in found  # lazy_gettext / _l in forms
    assert "Unified social credit code %(reason)s." in found  # gettext in services
    assert "must be 18 characters" in found  # runtime_msgids.py
    assert "%(amount)s of order %(number)s was released to you." in found  # notification message()
    assert len(found) > 300


def test_every_extracted_string_has_a_chinese_translation():
    missing = {msgid: locs[:2] for msgid, locs in extracted().items() if translation(msgid) is None}
    assert not missing, (
        f"{len(missing)} UI string(s) lack a non-fuzzy zh_CN translation in {ZH_PO.relative_to(ROOT)} "
        f"(re-run pybabel extract + update, then translate):\n"
        + "\n".join(f"  {msgid!r}  ({', '.join(locs)})" for msgid, locs in sorted(missing.items())))


def test_the_english_catalogue_lists_every_string():
    # English is the source language: empty msgstr falls back to the msgid, but the entry must exist
    # (a missing one means `pybabel update` was not run after extraction).
    en = catalogue(EN_PO)
    missing = [msgid for msgid in extracted() if en.get(msgid) is None]
    assert not missing, missing


def test_the_catalogue_has_no_fuzzy_entries():
    fuzzy = [m.id for m in catalogue() if m.id and m.fuzzy]
    assert not fuzzy, f"review and un-fuzzy these entries: {fuzzy}"


# --- (b) placeholders survive translation ------------------------------------------------------

def _translated_pairs(path: Path = ZH_PO):
    for msg in catalogue(path):
        if not msg.id or not msg.string:
            continue
        ids = msg.id if isinstance(msg.id, (tuple, list)) else (msg.id,)
        strings = msg.string if isinstance(msg.string, (tuple, list)) else (msg.string,)
        for string in strings:
            yield ids[-1] if len(ids) > 1 else ids[0], string


def test_translations_keep_the_placeholders_of_their_msgid():
    wrong = [(msgid, string) for msgid, string in _translated_pairs()
             if placeholders(msgid) != placeholders(string)]
    assert not wrong, "placeholders differ:\n" + "\n".join(f"  {a!r}\n  → {b!r}" for a, b in wrong)


def test_translations_have_no_stray_percent_signs():
    # flask-babel %-formats a translation when variables are passed; a bare % would raise.
    stray = [(msgid, string) for msgid, string in _translated_pairs()
             if "%" in PLACEHOLDER.sub("", string).replace("%%", "")]
    assert not stray, stray


def test_babel_reports_no_format_errors():
    problems = [(msg.id, [str(e) for e in errors]) for msg, errors in catalogue().check()]
    assert not problems, problems


CODE_ONLY = re.compile(r"[A-Z0-9][A-Z0-9 .,/\-]*")  # "HW08", "IP", "GB 32100-2015"


def test_codes_and_the_brand_stay_as_they_are():
    codes = [m.id for m in catalogue() if isinstance(m.id, str) and CODE_ONLY.fullmatch(m.id)]
    changed = {msgid: translation(msgid) for msgid in codes + ["Hazex"]
               if translation(msgid) != msgid}
    assert not changed, changed


# --- (c) strings that reach _() only at run time -----------------------------------------------

def _returned_literals(tree: ast.AST) -> set[str]:
    """Every string literal in a `return` expression, except dict keys (e.g. exception names) and
    the pieces of f-strings (those are produced by calling the functions, in policy_reasons)."""
    found: set[str] = set()
    for ret in (n for n in ast.walk(tree) if isinstance(n, ast.Return) and n.value is not None):
        skip = {id(k) for d in ast.walk(ret.value) if isinstance(d, ast.Dict) for k in d.keys if k}
        skip |= {id(c) for f in ast.walk(ret.value) if isinstance(f, ast.JoinedStr)
                 for c in ast.walk(f)}
        found |= {n.value for n in ast.walk(ret.value)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip}
    return found


def policy_reasons() -> set[str]:
    """Every reason market/accounts/policies.py can return (services pass them through _())."""
    source = Path(policies.__file__).read_text(encoding="utf-8")
    reasons = _returned_literals(ast.parse(source))
    # what the functions actually produce, including the f-string for each licence kind
    for exc in (stdnum_exceptions.InvalidLength, stdnum_exceptions.InvalidFormat,
                stdnum_exceptions.InvalidChecksum, stdnum_exceptions.InvalidComponent,
                stdnum_exceptions.ValidationError):
        reasons.add(policies._uscc_reason(exc()))
    start = date(2024, 3, 1)
    reasons.add(policies.licence_validity_problem("no-such-kind", start, start))
    for kind, years in policies.LICENCE_KINDS.items():
        reasons.add(policies.licence_validity_problem(kind, start, date(2024, 2, 1)))
        reasons.add(policies.licence_validity_problem(kind, start, date(2024 + years + 1, 3, 1)))
    reasons.discard(None)
    return reasons


def test_policy_reasons_are_found_in_the_code():
    reasons = policy_reasons()
    for expected in ("must be 18 characters", "check character does not match (GB 32100-2015)",
                     "a comprehensive licence runs at most 5 years",
                     "a collection licence runs at most 3 years",
                     "valid to must not be before valid from"):
        assert expected in reasons


@pytest.mark.parametrize("reason", sorted(policy_reasons()))
def test_each_policy_reason_is_translated(reason):
    assert translation(reason), (
        f"{reason!r} (market/accounts/policies.py) has no zh_CN translation: add _({reason!r}) to "
        "market/translations/runtime_msgids.py, re-extract, update and translate it")


def runtime_words() -> set[str]:
    """Status, action, type and document words the code passes to _() as variables."""
    from market.accounts.models import DOC_STATUSES, ORG_TYPES, Licence, Permit
    from market.accounts.services import _ORG_DECISIONS

    words = set(DOC_STATUSES) | set(ORG_TYPES) | {Licence.__tablename__, Permit.__tablename__}
    for action, (sources, target, _needs_reason) in _ORG_DECISIONS.items():
        words |= {action, target, *sources}
    try:  # marketplace modules, present once the listings / orders work lands
        from market.listings.models import QUOTE_STATUSES, REQUEST_STATUSES
        words |= set(REQUEST_STATUSES) | set(QUOTE_STATUSES)
    except ImportError:
        pass
    try:
        from market.orders.state import ORDER_STATUSES
        words |= set(ORDER_STATUSES)
    except ImportError:
        pass
    return words


def test_runtime_words_include_the_documented_ones():
    assert {"pending", "verified", "rejected", "suspended", "verify", "reject", "suspend",
            "reinstate", "licence", "permit", "generator", "operator", "carrier",
            "lab"} <= runtime_words()


@pytest.mark.parametrize("word", sorted(runtime_words()))
def test_each_runtime_word_is_translated(word):
    assert translation(word), (
        f"{word!r} reaches _() at run time but has no zh_CN translation: add _({word!r}) to "
        "market/translations/runtime_msgids.py, re-extract, update and translate it")


def test_runtime_only_entries_are_in_the_template_list():
    # So `pybabel update` keeps them: an entry only in the .po would turn obsolete (#~).
    not_extracted = (policy_reasons() | runtime_words()) - set(extracted())
    assert not not_extracted, f"add these to market/translations/runtime_msgids.py: {not_extracted}"


# --- terms the browser tests and the glossary rely on -----------------------------------------

@pytest.mark.parametrize("msgid, expected", [
    ("Generator workspace", "产废单位工作台"),
    ("Operator workspace", "经营单位工作台"),
    ("Carrier workspace", "运输单位工作台"),
    ("Laboratory workspace", "检测机构工作台"),
    ("Regulator workspace", "监管工作台"),
    ("Finance workspace", "财务工作台"),
    ("Administration workspace", "平台管理"),
    ("Log in", "登录"),
    ("Log out", "退出登录"),
    ("hazardous-waste exchange", "危险废物交易平台"),
    ("Unified social credit code", "统一社会信用代码"),
    ("Audit log", "审计日志"),
    ("E-mail outbox", "邮件发件箱"),
    ("Inbox", "收件箱"),
    ("pending", "待审核"),
    ("rejected", "已驳回"),
    ("suspended", "已暂停"),
])
def test_required_terms(msgid, expected):
    assert expected in (translation(msgid) or ""), (msgid, translation(msgid))


@pytest.mark.parametrize("context, msgid, expected, without_context", [
    ("dispute status", "open", "处理中", "报价中"),  # an open dispute is not "taking quotes"
    ("payout status", "pending", "待打款", "待审核"),  # a queued payout is not "awaiting review"
    ("contract signature", "Verify", "验证", "审核通过"),  # checking a signature approves nothing
    ("money movement", "What", "款项", "废物信息"),  # a ledger line's kind, not the waste
])
def test_one_english_word_with_two_meanings_has_a_context(context, msgid, expected,
                                                          without_context):
    assert translation(msgid, context=context) == expected
    assert translation(msgid) == without_context


# --- words kept as msgids in code tables and translated when shown -------------------------------

def table_msgids() -> set[str]:
    """Labels the audit log and the notifications look up by key (their msgids are data)."""
    from market.accounts.staff import ROLE_WORDS
    from market.audit.summary import KEY_LABELS, OBJECT_LABELS
    from market.ledger.names import FIXED

    return (set(KEY_LABELS.values()) | set(OBJECT_LABELS.values()) | set(ROLE_WORDS.values())
            | {"no platform role"} | set(FIXED.values()))


@pytest.mark.parametrize("msgid", sorted(table_msgids()))
def test_each_table_msgid_is_in_both_catalogues_and_extracted(msgid):
    assert translation(msgid), f"{msgid!r} has no zh_CN translation"
    assert catalogue(EN_PO).get(msgid) is not None, f"{msgid!r} is missing from the en catalogue"
    assert msgid in extracted(), f"add _({msgid!r}) to market/translations/runtime_msgids.py"


# a whole literal action; "escrow.cancellation_" + status is completed at run time (its endings
# are listed in runtime_msgids.py)
RECORDED = re.compile(r'\brecord\(\s*"([a-z_]+)\.([a-z_]*[a-z])"\s*[,)]')


def recorded_actions() -> set[tuple[str, str]]:
    """(area, verb) of every literal action the code records in the audit log."""
    found = set()
    for path in (ROOT / "market").rglob("*.py"):
        found |= set(RECORDED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_recorded_action_reads_as_words_in_chinese():
    from market.audit.summary import OBJECT_LABELS

    actions = recorded_actions()
    assert ("escrow", "payout_executed") in actions and len(actions) > 100
    no_area = sorted({area for area, _verb in actions if area not in OBJECT_LABELS})
    no_verb = sorted({verb for _area, verb in actions if not translation(verb)})
    assert not no_area, f"add these areas to OBJECT_LABELS in market/audit/summary.py: {no_area}"
    assert not no_verb, f"add these verbs to runtime_msgids.py and both catalogues: {no_verb}"
    assert not {verb for _area, verb in actions} - set(extracted())
