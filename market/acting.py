"""Who is acting, and the one guard that stops a suspended organisation's writes (DESIGN.md §1).

The acting user is bound once per request (web login or API token, market.web.security) or by
`acting_as` (jobs, commands, tests). Every flush of the session, and every ORM bulk
INSERT/UPDATE/DELETE, is checked: while the acting user's organisation is suspended, it is refused
with OrganisationSuspended and the use case rolls back. A use case written later needs no check of
its own; it cannot forget one.

Rows that are bookkeeping of the request rather than a use case (idempotency records, the job outbox) carry
`__suspension_exempt__ = True` on their model and are not looked at.

What must still work for a suspended organisation declares itself with `allow_while_suspended()`
inside its transaction: recording a login, logging out, choosing a language, reading
notifications, and refunds (money owed to the counterparty). The allow-list is the set of callers
of that function; keep it short.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from itertools import chain
from typing import Iterator

from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session

from market import db
from market.accounts.models import Organisation, User
from market.errors import OrganisationSuspended

_EXEMPT = "suspension_exempt"


@dataclass
class Acting:
    user_id: int
    org_id: int
    suspended: bool | None = None  # looked up at the first write, then kept for the request


_acting: ContextVar[Acting | None] = ContextVar("hazex_acting_user", default=None)


def bind(user: User | None):
    """Make `user` the acting user; returns the token for `unbind`."""
    return _acting.set(Acting(user.id, user.org_id) if user is not None else None)


def unbind(token) -> None:
    try:
        _acting.reset(token)
    except ValueError:  # bound in another context (thread): nobody acts here any more
        _acting.set(None)


@contextmanager
def acting_as(user: User | None) -> Iterator[None]:
    """Run a block (a job, a command, a test) as `user`."""
    token = bind(user)
    try:
        yield
    finally:
        unbind(token)


def allow_while_suspended() -> None:
    """Declare the current transaction one that a suspended organisation may still run."""
    db.session().info[_EXEMPT] = True


def check_may_write(session: Session) -> None:
    """Raise OrganisationSuspended when the acting user's organisation is suspended."""
    acting = _acting.get()
    if acting is None or session.info.get(_EXEMPT):
        return
    if acting.suspended is None:
        with session.no_autoflush:
            status = session.execute(select(Organisation.status)
                                     .where(Organisation.id == acting.org_id)).scalar()
        acting.suspended = status == "suspended"
    if acting.suspended:
        raise suspended()


def suspended() -> OrganisationSuspended:
    """The refusal of every write of a suspended organisation."""
    return OrganisationSuspended(
        _("Your organisation is suspended: you can read its records but change nothing. "
          "Contact the platform to be reinstated."))


def _exempt(cls) -> bool:
    return bool(getattr(cls, "__suspension_exempt__", False))


def _before_flush(session: Session, flush_context, instances) -> None:
    if _acting.get() is None:  # the system (jobs, commands) or an anonymous request
        return
    if any(not _exempt(type(obj)) for obj in chain(session.new, session.dirty, session.deleted)):
        check_may_write(session)


def _do_orm_execute(state: ORMExecuteState) -> None:
    if _acting.get() is None:
        return
    if state.is_insert or state.is_update or state.is_delete:
        mapper = state.bind_mapper
        if mapper is None or not _exempt(mapper.class_):
            check_may_write(state.session)


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_EXEMPT, None)


def install() -> None:
    """Attach the guard to every session the application makes (idempotent)."""
    for name, fn in (("before_flush", _before_flush), ("do_orm_execute", _do_orm_execute),
                     ("after_transaction_end", _after_transaction_end)):
        if not event.contains(db.SessionFactory, name, fn):
            event.listen(db.SessionFactory, name, fn)
