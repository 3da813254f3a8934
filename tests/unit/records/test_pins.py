"""Member PINs through DbCallServices on SQLite and PostgreSQL: right, wrong, lock-out across calls, expiry, unlock.

And the PIN digits themselves: in no log line, table or CLI output.
"""

import logging
from datetime import timedelta

import pytest
from click.testing import CliRunner
from patient_fixtures import Clock, add_patients, member, session_on
from sqlalchemy import MetaData, select

from ccctl.cli import main
from ccctl.ivr.services import AuthOutcome
from ccctl.patients import commands as patient_commands
from ccctl.patients.call_services import DbCallServices
from ccctl.patients.pins import PinFormatError, PinHasher, PinPolicy
from ccctl.patients.repository import PatientData, PatientError
from ccctl.records.database import make_engine
from ccctl.records.models.patients import Patient, PinAttempt

MEMBER = "20261123"
PIN = "4321"
OK, WRONG, LOCKED, UNKNOWN = AuthOutcome.OK, AuthOutcome.WRONG, AuthOutcome.LOCKED, AuthOutcome.UNKNOWN


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def services(db_url, clock):
    """A member with PIN 4321 and the services that check it (default policy: 5 failures / 15 min, 30 min lock)."""
    add_patients(db_url, member(number=MEMBER), PatientData(given_name="Non", family_name="Member", phones=["+4899"]))
    patient_commands.set_pin(db_url, "P000001", PIN, "admin")
    services = DbCallServices(db_url, clock=clock)
    yield services
    services.close()


def check(services, clock, pin, call="call-1", member_number=MEMBER):
    """One keypad attempt a second after the previous one."""
    clock.advance(1)
    return services.verify_member_pin(member_number, pin, call)


def attempts(url):
    with session_on(url) as session:
        return [
            (a.patient_id, a.call_uuid, a.outcome) for a in session.scalars(select(PinAttempt).order_by(PinAttempt.id))
        ]


def member_row(url):
    with session_on(url) as session:
        return session.scalars(select(Patient).where(Patient.member_number == MEMBER)).one()


def test_right_pin_is_ok_and_recorded(db_url, services, clock):
    assert check(services, clock, PIN) is OK
    assert attempts(db_url) == [(1, "call-1", "ok")]
    assert member_row(db_url).pin_hash.startswith("$argon2id$")


def test_wrong_pins_across_calls_lock_the_member(db_url, services, clock):
    outcomes = [check(services, clock, "0000", call=f"call-{n // 2}") for n in range(5)]
    assert outcomes == [WRONG, WRONG, WRONG, WRONG, LOCKED]
    locked_at = clock.now
    # locked: even the right PIN is refused, and that attempt is not counted as wrong
    assert check(services, clock, PIN, call="call-3") is LOCKED
    row = member_row(db_url)
    assert row.pin_failures == 5
    assert row.locked_until == locked_at + timedelta(minutes=30)
    assert [outcome for _, _, outcome in attempts(db_url)] == ["wrong"] * 5 + ["locked"]
    assert {call for _, call, _ in attempts(db_url)} == {"call-0", "call-1", "call-2", "call-3"}


def test_lock_lasts_the_policy_time_then_counting_starts_afresh(db_url, services, clock):
    for _ in range(5):
        check(services, clock, "0000")
    locked_at = clock.now
    assert member_row(db_url).locked_until == locked_at + timedelta(minutes=30)
    clock.advance(1800 - 10)
    assert check(services, clock, PIN) is LOCKED
    clock.advance(10)
    assert check(services, clock, "0000") is WRONG  # the five before the lock no longer count
    assert check(services, clock, PIN) is OK
    assert member_row(db_url).pin_failures == 0


def test_right_pin_resets_the_count(services, clock):
    assert [check(services, clock, "0000") for _ in range(4)] == [WRONG] * 4
    assert check(services, clock, PIN) is OK
    assert [check(services, clock, "0000") for _ in range(4)] == [WRONG] * 4


def test_failures_older_than_the_window_do_not_count(services, clock):
    for _ in range(4):
        check(services, clock, "0000")
    clock.advance(900)
    assert check(services, clock, "0000") is WRONG


def test_policy_is_the_callers(db_url, clock):
    add_patients(db_url, member(number=MEMBER))
    patient_commands.set_pin(db_url, "P000001", PIN, "admin")
    services = DbCallServices(db_url, clock=clock, policy=PinPolicy(max_failures=2, window_seconds=60, lock_seconds=60))
    try:
        assert [check(services, clock, "9999") for _ in range(2)] == [WRONG, LOCKED]
        clock.advance(60)
        assert check(services, clock, PIN) is OK
    finally:
        services.close()


def test_unlock_ends_the_lock_out(db_url, services, clock):
    for _ in range(5):
        check(services, clock, "0000")
    assert patient_commands.unlock(db_url, "P000001", "admin") is True
    row = member_row(db_url)
    assert (row.locked_until, row.pin_failures) == (None, 0)
    assert check(services, clock, PIN) is OK
    assert patient_commands.unlock(db_url, "P000001", "admin") is False


def test_unknown_member_number_is_recorded_without_a_patient(db_url, services, clock):
    assert check(services, clock, PIN, member_number="99999999") is UNKNOWN
    assert attempts(db_url) == [(None, "call-1", "unknown")]


def test_member_without_a_pin_never_matches(db_url, services, clock):
    add_patients(db_url, member(number="77777777", phone="+4877"))
    assert check(services, clock, "0000", member_number="77777777") is WRONG


def test_non_member_has_no_pin(db_url, services):
    with pytest.raises(PatientError, match="^patient 'P000002' is not a member \\(only members have a PIN\\)$"):
        patient_commands.set_pin(db_url, "P000002", "1234", "admin")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", " 1234", ""])
def test_pin_format_is_4_to_8_digits_and_never_echoed(db_url, services, pin):
    with pytest.raises(PinFormatError) as err:
        patient_commands.set_pin(db_url, "P000001", pin, "admin")
    assert str(err.value) == "a PIN is 4 to 8 digits"


def test_new_pin_clears_a_lock_out(db_url, services, clock):
    for _ in range(5):
        check(services, clock, "0000")
    patient_commands.set_pin(db_url, "P000001", "86420", "admin")
    assert check(services, clock, "86420") is OK


def test_hash_made_with_old_parameters_is_replaced_after_a_right_pin(db_url, services, clock):
    old = PinHasher(time_cost=1, memory_cost_kib=8 * 1024)
    with session_on(db_url) as session:
        session.scalars(select(Patient).where(Patient.member_number == MEMBER)).one().pin_hash = old.hash(PIN)
    assert check(services, clock, PIN) is OK
    new_hash = member_row(db_url).pin_hash
    assert not services.hasher.needs_rehash(new_hash)
    assert check(services, clock, PIN) is OK


def every_stored_text(url):
    """Every value of every row of every table, as text."""
    engine = make_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return "\n".join(
                repr(tuple(row)) for table in metadata.sorted_tables for row in connection.execute(table.select())
            )
    finally:
        engine.dispose()


def test_pin_digits_appear_nowhere(db_url, tmp_path, caplog, monkeypatch, clock):
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("CCCTL_CONFIG", raising=False)
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database:\n  url: {db_url}\n")
    csv_file = tmp_path / "members.csv"
    csv_file.write_text(
        "given_name,family_name,phones,member_number,pin\n"
        "Ola,Nowak,+48600100200,30000001,739164\n"
        "Ewa,Lis,+48600100201,30000002,7391640000\n"
    )

    def ccctl(*args, stdin=None):
        return CliRunner().invoke(main, ["-c", str(settings), *args], input=stdin)

    outputs = [ccctl("patients", "import", str(csv_file))]  # the second PIN is too long: nothing stored
    add_patients(db_url, member(number=MEMBER), member(number="40000002", phone="+4811"))
    outputs.append(ccctl("patients", "set-pin", "P000001", "--pin-stdin", stdin="739164\n"))
    outputs.append(ccctl("patients", "set-pin", "P000002", stdin="2468\n2468\n"))
    services = DbCallServices(db_url, clock=clock)
    try:
        assert [check(services, clock, "739164") for _ in range(2)] == [OK, OK]
        wrong = [check(services, clock, "739164", member_number="40000002") for _ in range(6)]
        assert wrong == [WRONG] * 4 + [LOCKED, LOCKED]
        assert check(services, clock, "739164", member_number="55555555") is UNKNOWN
    finally:
        services.close()
    for args in (("show", "P000001"), ("show", "P000002", "--json"), ("list", "--json"), ("unlock", "P000002")):
        outputs.append(ccctl("patients", *args))

    assert outputs[0].exit_code == 1 and "members.csv:3: a PIN of 10 digits cannot be keyed in" in outputs[0].output
    assert [result.exit_code for result in outputs[1:]] == [0] * 6
    assert "739164" not in "\n".join(result.output for result in outputs)
    assert "PIN:           set" in outputs[3].output
    assert len(caplog.records) > 0
    assert "739164" not in caplog.text
    assert "739164" not in "\n".join(repr(record.args) for record in caplog.records)
    stored = every_stored_text(db_url)
    assert "$argon2id$" in stored and "+33612345678" in stored  # the dump does see the tables
    assert "739164" not in stored
