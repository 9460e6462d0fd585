"""The bank account a payee keeps on file: its organisation's admin sets it, a platform admin
verifies or rejects it; changing it, or the bank returning a payout to it, un-verifies it.
Only a verified account is paid in a payout batch (market.settlement.batches)."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.db import utcnow
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.notifications.messages import message
from market.notifications.services import notify_org
from market.settlement.payout_models import BankAccount
from market.uow import transaction

MIN_DIGITS, MAX_DIGITS = 8, 30
MAX_NAME = 200
MAX_REASON = 500
_SEPARATORS = re.compile(r"[\s-]+")


def _text(value: object, field: str, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(_("%(field)s is required.", field=label), field=field)
    value = value.strip()
    if len(value) > MAX_NAME:
        raise ValidationFailed(_("%(field)s may be at most %(n)d characters.", field=label,
                                 n=MAX_NAME), field=field)
    if value[0] in "=+-@":
        raise ValidationFailed(_("%(field)s must begin with a letter or a digit.", field=label),
                               field=field)
    return value


def normalise_number(value: object) -> str:
    """The account number as digits only; spaces and dashes as people type them are dropped."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(_("%(field)s is required.", field=_("Account number")),
                               field="account_number")
    digits = _SEPARATORS.sub("", value)
    if not (digits.isascii() and digits.isdigit()):
        raise ValidationFailed(_("The account number may hold only digits (spaces and dashes "
                                 "are ignored)."), field="account_number")
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise ValidationFailed(_("The account number has %(n)d digits; a bank account number "
                                 "has %(lo)d to %(hi)d.", n=len(digits), lo=MIN_DIGITS,
                                 hi=MAX_DIGITS), field="account_number")
    return digits


def account_of(org_id: int) -> BankAccount | None:
    return db.session.scalar(select(BankAccount).where(BankAccount.org_id == org_id))


def check_details(actor: User, account_name: object, bank_name: object,
                  account_number: object) -> tuple[str, str, str]:
    """Refuse anyone but an organisation's admin, or bad details; the details cleaned."""
    if actor.is_platform or actor.is_regulator or not actor.is_org_admin:
        raise PermissionDenied(_("Only your organisation's administrator maintains its bank "
                                 "account."))
    return (_text(account_name, "account_name", _("Account name")),
            _text(bank_name, "bank_name", _("Bank")), normalise_number(account_number))


def set_account(actor: User, account_name: object, bank_name: object,
                account_number: object) -> BankAccount:
    """Set the organisation's bank account; a change needs an admin's verification again."""
    name, bank, number = check_details(actor, account_name, bank_name, account_number)
    with transaction():
        account = db.session.scalar(select(BankAccount).where(
            BankAccount.org_id == actor.org_id).with_for_update())
        if account is not None and (account.account_name, account.bank_name,
                                    account.account_number) == (name, bank, number):
            return account  # the same details again change nothing
        if account is None:
            account = BankAccount(org_id=actor.org_id)
            db.session.add(account)
        account.account_name, account.bank_name, account.account_number = name, bank, number
        account.status, account.reason = "unverified", None
        account.verified_by_id = account.verified_at = None
        account.changed_by_id, account.changed_at = actor.id, utcnow()
        db.session.flush()
        record("settlement.bank_account_set", account, actor=actor, changes={
            "org_id": actor.org_id, "account_name": name, "bank_name": bank,
            "account_number": account.masked})
        return account


def _require_admin(actor: User) -> None:
    if actor.platform_role != "admin" or not actor.is_platform:
        raise PermissionDenied(_("Only platform administrators verify bank accounts."))


def _pending(account_id: object) -> BankAccount:
    account = db.session.scalar(select(BankAccount).where(BankAccount.id == account_id)
                                .with_for_update()) if type(account_id) is int else None
    if account is None:
        raise NotFound(_("No such bank account."))
    if account.status != "unverified":
        raise InvalidState(_("This bank account is not awaiting verification."))
    return account


def verify(actor: User, account_id: object) -> BankAccount:
    _require_admin(actor)
    with transaction():
        account = _pending(account_id)
        account.status, account.reason = "verified", None
        account.verified_by_id, account.verified_at = actor.id, utcnow()
        record("settlement.bank_account_verified", account, actor=actor,
               changes={"org_id": account.org_id, "account_number": account.masked})
        notify_org(account.org_id, "settlement.bank_account_verified",
                   message("Your bank account %(number)s is verified; payouts go to it.",
                           number=account.masked), link="/bank-account")
        return account


def reject(actor: User, account_id: object, reason: object) -> BankAccount:
    _require_admin(actor)
    if not isinstance(reason, str) or not reason.strip() or len(reason.strip()) > MAX_REASON:
        raise ValidationFailed(_("%(field)s is required.", field=_("Reason")), field="reason")
    with transaction():
        account = _pending(account_id)
        account.status, account.reason = "rejected", reason.strip()
        record("settlement.bank_account_rejected", account, actor=actor,
               changes={"org_id": account.org_id, "reason": account.reason})
        notify_org(account.org_id, "settlement.bank_account_rejected",
                   message("Your bank account %(number)s was not accepted: %(reason)s. Correct "
                           "it to be paid out.", number=account.masked, reason=account.reason),
                   link="/bank-account")
        return account


def flag_returned(org_id: int, detail: str) -> None:
    """The bank returned a payout sent to the account: it must be corrected and verified again
    (in the caller's transaction)."""
    account = db.session.scalar(select(BankAccount).where(BankAccount.org_id == org_id)
                                .with_for_update())
    if account is None:
        return
    account.status, account.reason = "returned", detail[:MAX_REASON]
    account.verified_by_id = account.verified_at = None
    record("settlement.bank_account_flagged", account, changes={"reason": account.reason})


def awaiting_count() -> int:
    return db.session.scalar(select(func.count()).select_from(BankAccount)
                             .where(BankAccount.status == "unverified")) or 0


def awaiting_verification(limit: int = 200) -> list[BankAccount]:
    return list(db.session.scalars(select(BankAccount).where(BankAccount.status == "unverified")
                                   .order_by(BankAccount.changed_at, BankAccount.id)
                                   .limit(limit)))
