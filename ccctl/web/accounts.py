"""Web console users: roles, argon2 password hashes, the password policy, login checks throttled per user name
and per address, and the end of a user's sessions when the password, the role or the account changes.

Plain functions on a SQLAlchemy session; the CLI (`ccctl users`) and the login page both use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ccctl.errors import UserError
from ccctl.patients.pins import MEMORY_COST_KIB, PARALLELISM, TIME_COST
from ccctl.records.models.base import utc_now
from ccctl.records.models.web import LoginAttempt, WebSession, WebUser

ROLES = ("admin", "supervisor", "agent")
LANGUAGES = ("en", "zh", "pl")
MIN_PASSWORD_LENGTH = 8
# admins and supervisors see every patient and every call: a longer password
MIN_PASSWORD_LENGTH_BY_ROLE = {"admin": 12, "supervisor": 12, "agent": MIN_PASSWORD_LENGTH}
# what guessers try first (lower case; compared with the password in lower case)
COMMON_PASSWORDS = frozenset(
    """12345678 123456789 1234567890 123456789012 12345678910 87654321 11111111 00000000 password password1
    password12 password123 password1234 passw0rd p@ssw0rd p@ssword qwerty123 qwertyuiop qwerty12345 1q2w3e4r
    1q2w3e4r5t 1qaz2wsx abc12345 abcd1234 iloveyou letmein1 welcome1 welcome123 changeme changeme123
    admin123 admin1234 administrator root1234 hospital hospital1 hospital123 sunshine princess football
    baseball trustno1 superman starwars dragon123 monkey123 zaq12wsx asdfghjkl asdf1234 secret123
    contactcenter callcenter""".split()
)
# argon2id at the cost OWASP gives as its baseline, the same as the patients' PINs (ccctl.patients.pins)
_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)
# verifying against this keeps the time of "no such user" like that of "wrong password"
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")


class AccountError(UserError, ValueError):
    """A user account cannot be added or changed; str() names the field at fault."""


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    role: str
    agent: str
    language: str
    disabled: bool


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int = 5
    max_failures_per_address: int = 20
    window_seconds: int = 900


def _view(user: WebUser) -> UserView:
    agent = user.agent or (user.name if user.role == "agent" else "")
    return UserView(user.id, user.name, user.role, agent, user.language, user.disabled)


def _character_classes(password: str) -> int:
    kinds = (str.islower, str.isupper, str.isdigit)
    found = {next((i for i, kind in enumerate(kinds) if kind(c)), len(kinds)) for c in password}
    return len(found)


def check_password(password: str, role: str = "agent", name: str = "") -> None:
    """Refuse a weak password with one line saying what is wanted (the password itself is never echoed)."""
    wanted = MIN_PASSWORD_LENGTH_BY_ROLE.get(role, max(MIN_PASSWORD_LENGTH_BY_ROLE.values()))
    if len(password) < wanted:
        raise AccountError(
            f"password: at least {wanted} characters for {'an' if role[:1] in 'aeiou' else 'a'} {role}, "
            "mixing letters with digits, capitals or symbols"
        )
    if _character_classes(password) < 2:
        raise AccountError("password: mix at least two kinds of characters (lower case, capitals, digits, symbols)")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        raise AccountError("password: one of the most common passwords; choose another")
    name = name.strip().lower()
    if len(name) >= 3 and len(lowered.replace(name, "")) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: too close to the user name; at least {MIN_PASSWORD_LENGTH} other characters")


def add_user(session: Session, name: str, role: str, password: str, agent: str = "", language: str = "en") -> UserView:
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise AccountError(f"name: {name!r} must be 1-64 characters without spaces")
    if role not in ROLES:
        raise AccountError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if language not in LANGUAGES:
        raise AccountError(f"language: {language!r} is not one of {', '.join(LANGUAGES)}")
    check_password(password, role, name)
    if session.scalar(select(WebUser).where(WebUser.name == name)) is not None:
        raise AccountError(f"name: a user {name!r} already exists")
    user = WebUser(name=name, role=role, password_hash=_hasher.hash(password), agent=agent, language=language)
    session.add(user)
    session.flush()
    return _view(user)


def find_user(session: Session, name: str) -> WebUser | None:
    return session.scalar(select(WebUser).where(WebUser.name == name))


def user_by_id(session: Session, user_id: int) -> UserView | None:
    user = session.get(WebUser, user_id)
    return None if user is None or user.disabled else _view(user)


def _existing(session: Session, name: str) -> WebUser:
    user = find_user(session, name)
    if user is None:
        raise AccountError(f"name: no user {name!r}")
    return user


def end_sessions(session: Session, user_id: int) -> int:
    """Log the user out everywhere: every session of theirs is deleted; how many there were."""
    return session.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount or 0


def set_password(session: Session, name: str, password: str) -> int:
    """A new password; the user's open sessions end (a stolen cookie dies with the old password). How many."""
    user = _existing(session, name)
    check_password(password, user.role, user.name)
    user.password_hash = _hasher.hash(password)
    return end_sessions(session, user.id)


def set_role(session: Session, name: str, role: str) -> int:
    """A new role; the user's open sessions end, so the next login starts with the new rights. How many."""
    if role not in ROLES:
        raise AccountError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    user = _existing(session, name)
    user.role = role
    return end_sessions(session, user.id)


def set_disabled(session: Session, name: str, disabled: bool) -> int:
    """Disable (no login, open sessions end) or enable a user; how many sessions ended."""
    user = _existing(session, name)
    user.disabled = disabled
    return end_sessions(session, user.id) if disabled else 0


def set_language(session: Session, user_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise AccountError(f"language: {language!r} is not one of {', '.join(LANGUAGES)}")
    user = session.get(WebUser, user_id)
    if user is not None:
        user.language = language


def list_users(session: Session) -> list[UserView]:
    return [_view(u) for u in session.scalars(select(WebUser).order_by(WebUser.name))]


def _failures_since(session: Session, column, value: str, since: datetime) -> int:
    query = select(func.count()).select_from(LoginAttempt).where(column == value, LoginAttempt.at >= since)
    # a success ends the run of failures for that user name (not for an address)
    if column is LoginAttempt.name:
        last_ok = session.scalar(select(func.max(LoginAttempt.at)).where(LoginAttempt.name == value, LoginAttempt.ok))
        if last_ok is not None and last_ok > since:
            since = last_ok
            query = query.where(LoginAttempt.at > since)
    return session.scalar(query.where(LoginAttempt.ok.is_(False))) or 0


def login_refused(session: Session, name: str, address: str, limits: LoginLimits, now: datetime | None = None) -> bool:
    """Whether too many failures for this user name or from this address forbid trying now."""
    since = (now or utc_now()) - timedelta(seconds=limits.window_seconds)
    if _failures_since(session, LoginAttempt.name, name, since) >= limits.max_failures:
        return True
    return _failures_since(session, LoginAttempt.address, address, since) >= limits.max_failures_per_address


def log_in(session: Session, name: str, password: str, address: str, limits: LoginLimits) -> UserView | None:
    """The user when name and password match and no limit is hit; every try is recorded for the limits."""
    if login_refused(session, name, address, limits):
        return None
    user = find_user(session, name)
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and not user.disabled
    session.add(LoginAttempt(name=name[:64], address=address[:64], ok=ok))
    return _view(user) if ok else None
