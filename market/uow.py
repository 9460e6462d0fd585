"""Unit of work: one use case, one commit; hooks that run only after the commit or the rollback."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy.orm import Session

from market import db

log = logging.getLogger(__name__)

_DEPTH = "uow_depth"
_HOOKS = "uow_after_commit"
_UNDO = "uow_on_rollback"


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
            s.info.pop(_UNDO, None)
    except BaseException:
        if depth == 0:
            s.rollback()
            s.info.pop(_HOOKS, None)
            _undo(s.info.pop(_UNDO, []))
        raise
    finally:
        s.info[_DEPTH] = depth
    if depth == 0:
        for hook in s.info.pop(_HOOKS, []):
            try:
                hook()
            except Exception:
                # The commit stands; a lost push is re-sent by the outbox dispatcher.
                log.exception("after-commit hook failed")


def _undo(hooks: list[Callable[[], None]]) -> None:
    for hook in reversed(hooks):
        try:
            hook()
        except Exception:
            log.exception("rollback hook failed")


def in_transaction() -> bool:
    """True inside a transaction() block."""
    return bool(db.session().info.get(_DEPTH))


def on_rollback(fn: Callable[[], None]) -> None:
    """Run fn if the current transaction rolls back (e.g. remove a file it wrote); dropped on commit."""
    s = db.session()
    if not s.info.get(_DEPTH):
        raise RuntimeError("on_rollback() needs an open transaction()")
    s.info.setdefault(_UNDO, []).append(fn)


def after_commit(fn: Callable[[], None]) -> None:
    """Run fn once the current transaction has committed; dropped if it rolls back."""
    s = db.session()
    if not s.info.get(_DEPTH):
        raise RuntimeError("after_commit() needs an open transaction()")
    s.info.setdefault(_HOOKS, []).append(fn)
