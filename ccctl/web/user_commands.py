"""What `ccctl users` does: add a console user, change a password or a role, disable, log out, list users,
each in one transaction. A change of password or role, disabling and logging out end the user's console sessions.

Errors come back as AccountError with one line naming the field or the database problem.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ccctl.records.database import in_transaction
from ccctl.web.accounts import (
    AccountError,
    UserView,
    add_user,
    end_sessions,
    find_user,
    list_users,
    set_disabled,
    set_password,
    set_role,
)


def _in_transaction(url, work):
    return in_transaction(url, AccountError, work)


def add(url: str, name: str, role: str, password: str, agent: str = "", language: str = "en") -> UserView:
    return _in_transaction(url, lambda db: add_user(db, name, role, password, agent, language))


def change_password(url: str, name: str, password: str) -> int:
    """The new password; how many open console sessions of the user ended."""
    return _in_transaction(url, lambda db: set_password(db, name, password))


def change_role(url: str, name: str, role: str) -> int:
    return _in_transaction(url, lambda db: set_role(db, name, role))


def disable(url: str, name: str, disabled: bool = True) -> int:
    return _in_transaction(url, lambda db: set_disabled(db, name, disabled))


def log_out(url: str, name: str) -> int:
    """End every console session of the user (a lost or shared computer)."""

    def work(db: Session) -> int:
        user = find_user(db, name)
        if user is None:
            raise AccountError(f"name: no user {name!r}")
        return end_sessions(db, user.id)

    return _in_transaction(url, work)


def sessions_ended(count: int) -> str:
    return f"ended {count} open console session{'' if count == 1 else 's'}"


def listing(url: str) -> list[UserView]:
    return _in_transaction(url, list_users)


def format_users(users: list[UserView]) -> str:
    rows = [("NAME", "ROLE", "AGENT", "LANGUAGE")] + [
        (u.name, u.role + (" (disabled)" if u.disabled else ""), u.agent or "-", u.language) for u in users
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def ensure_user(url: str, name: str, role: str, password: str) -> bool:
    """Add the user unless one of that name exists (`ccctl demo`'s supervisor); whether it was added."""

    def work(db: Session) -> bool:
        if find_user(db, name) is not None:
            return False
        add_user(db, name, role, password)
        return True

    return _in_transaction(url, work)
