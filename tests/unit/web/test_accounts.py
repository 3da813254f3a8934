"""Console users: roles, argon2 hashes, login throttled per user name and per address (SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from ccctl.records.database import make_engine
from ccctl.records.models.base import utc_now
from ccctl.records.models.web import WebUser
from ccctl.web.accounts import AccountError, LoginLimits, add_user, list_users, log_in, login_refused, set_password

LIMITS = LoginLimits(max_failures=3, max_failures_per_address=5, window_seconds=900)
# a supervisor: 12 characters at least
SAM_PASSWORD = "long-enough-pw"


@pytest.fixture
def db(sqlite_url):
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_password_is_stored_as_an_argon2_hash_and_logs_in(db):
    add_user(db, "ola", "agent", "s3cret-pass", language="pl")
    stored = db.query(WebUser).one()
    assert stored.password_hash.startswith("$argon2id$") and "s3cret-pass" not in stored.password_hash
    user = log_in(db, "ola", "s3cret-pass", "10.0.0.1", LIMITS)
    assert user is not None and user.role == "agent" and user.agent == "ola" and user.language == "pl"
    assert log_in(db, "ola", "wrong-pass", "10.0.0.1", LIMITS) is None
    assert log_in(db, "nobody", "s3cret-pass", "10.0.0.1", LIMITS) is None


@pytest.mark.parametrize(
    ("name", "role", "password", "language", "field"),
    [
        ("a b", "agent", "long-enough", "en", "name"),
        ("x", "boss", "long-enough", "en", "role"),
        ("x", "agent", "short", "en", "password"),
        ("x", "agent", "long-enough", "de", "language"),
    ],
)
def test_bad_user_data_names_the_field(db, name, role, password, language, field):
    with pytest.raises(AccountError) as caught:
        add_user(db, name, role, password, language=language)
    assert str(caught.value).startswith(f"{field}:")


def test_a_name_is_taken_once(db):
    add_user(db, "sam", "supervisor", SAM_PASSWORD)
    with pytest.raises(AccountError, match="already exists"):
        add_user(db, "sam", "admin", SAM_PASSWORD)
    assert [u.name for u in list_users(db)] == ["sam"]


def test_failures_for_one_name_lock_it_even_with_the_right_password(db):
    add_user(db, "sam", "supervisor", SAM_PASSWORD)
    for _ in range(3):
        assert log_in(db, "sam", "guess-guess", "10.0.0.1", LIMITS) is None
    assert login_refused(db, "sam", "10.0.0.9", LIMITS)
    assert log_in(db, "sam", SAM_PASSWORD, "10.0.0.9", LIMITS) is None
    # the window passes: the right password works again
    later = utc_now() + timedelta(seconds=901)
    assert not login_refused(db, "sam", "10.0.0.9", LIMITS, now=later)


def test_failures_from_one_address_lock_every_name_from_it(db):
    add_user(db, "sam", "supervisor", SAM_PASSWORD)
    for n in range(5):
        log_in(db, f"guess{n}", "whatever-x", "10.0.0.7", LIMITS)
    assert log_in(db, "sam", SAM_PASSWORD, "10.0.0.7", LIMITS) is None
    assert log_in(db, "sam", SAM_PASSWORD, "10.0.0.8", LIMITS) is not None


def test_a_success_ends_the_run_of_failures_of_that_name(db):
    add_user(db, "sam", "supervisor", SAM_PASSWORD)
    for _ in range(2):
        log_in(db, "sam", "guess-guess", "10.0.0.1", LIMITS)
    assert log_in(db, "sam", SAM_PASSWORD, "10.0.0.1", LIMITS) is not None
    for _ in range(2):
        log_in(db, "sam", "guess-guess", "10.0.0.1", LIMITS)
    assert not login_refused(db, "sam", "10.0.0.1", LIMITS)


def test_new_password_replaces_the_old(db_url):
    engine = make_engine(db_url)
    try:
        with Session(engine) as db, db.begin():
            add_user(db, "sam", "admin", "first-password")
            set_password(db, "sam", "second-password")
            assert log_in(db, "sam", "first-password", "::1", LIMITS) is None
            assert log_in(db, "sam", "second-password", "::1", LIMITS) is not None
            with pytest.raises(AccountError, match="no user"):
                set_password(db, "ghost", "whatever-long")
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("name", "role", "password", "wanted"),
    [
        ("alice", "admin", "12345678", "at least 12 characters for an admin"),
        ("sam", "supervisor", "Short-pass1", "at least 12 characters for a supervisor"),
        ("alice", "admin", "aaaaaaaaaaaaaaaa", "mix at least two kinds of characters"),
        ("alice", "admin", "123456789012", "mix at least two kinds of characters"),
        ("alice", "admin", "Password1234", "one of the most common passwords"),
        ("ola", "agent", "password1", "one of the most common passwords"),
        ("alice", "admin", "alice-alice-1", "too close to the user name"),
        ("alice", "admin", "Alice2024Alice", "too close to the user name"),
        ("ola", "agent", "p4ss", "at least 8 characters for an agent"),
    ],
)
def test_a_weak_password_is_refused_saying_what_is_wanted(db, name, role, password, wanted):
    with pytest.raises(AccountError) as caught:
        add_user(db, name, role, password)
    assert str(caught.value).startswith("password: ") and wanted in str(caught.value)
    assert password not in str(caught.value)
    assert list_users(db) == []


def test_a_new_password_follows_the_policy_of_the_users_role(db):
    add_user(db, "ola", "agent", "s3cret-pass")
    add_user(db, "alice", "admin", "Horse-battery-9")
    set_password(db, "ola", "short-p4ss")
    with pytest.raises(AccountError, match="at least 12 characters for an admin"):
        set_password(db, "alice", "short-p4ss")
    assert log_in(db, "alice", "Horse-battery-9", "10.0.0.1", LIMITS) is not None
