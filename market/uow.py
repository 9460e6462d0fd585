"""Unit of work: one use case, one commit; hooks that run only after the commit."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy.orm import Session

from market import db

log = logging.getLogger(__name__)

_DEPTH = "uow_depth"
_HOOKS = "uow_after_commit"
_ROLLBACK_HOOKS = "uow_after_rollback"


@contextmanager
def transaction() -> Iterator[Session]:
    """Run a use case; commit once at the end of the outermost block, roll back on error."""
    s = db.session()
    depth = s.info.get(_DEPTH, 0)
    s.info[_DEPTH] = depth + 1
    try:
        yield s
        if depth == 0:
            s.commit()
    except BaseException:
        s.info[_DEPTH] = depth
        if depth == 0:
            s.rollback()
            s.info.pop(_HOOKS, None)
            # Outside the rolled-back transaction: a hook that writes runs its own.
            _run(s.info.pop(_ROLLBACK_HOOKS, []), "after-rollback")
        raise
    finally:
        s.info[_DEPTH] = depth
    if depth == 0:
        s.info.pop(_ROLLBACK_HOOKS, None)
        # The commit stands whatever a hook does; a lost push is re-sent by the outbox dispatcher.
        _run(s.info.pop(_HOOKS, []), "after-commit")


def _run(hooks: list[Callable[[], None]], when: str) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:
            log.exception("%s hook failed", when)


def after_commit(fn: Callable[[], None]) -> None:
    """Run fn once the current transaction has committed; dropped if it rolls back."""
    s = db.session()
    if not s.info.get(_DEPTH):
        raise RuntimeError("after_commit() needs an open transaction()")
    s.info.setdefault(_HOOKS, []).append(fn)


def after_rollback(fn: Callable[[], None]) -> None:
    """Run fn once the current use case has rolled back (in a transaction of its own, if it
    writes); dropped if it commits. For records that must outlive a refusal, e.g. an alert about
    the refused attempt."""
    s = db.session()
    if not s.info.get(_DEPTH):
        raise RuntimeError("after_rollback() needs an open transaction()")
    s.info.setdefault(_ROLLBACK_HOOKS, []).append(fn)
