"""`ccctl patients add/show/set-pin/unlock/list/import` end to end through the click CLI."""

import json

import pytest
from click.testing import CliRunner
from patient_fixtures import CSV_DIR, session_on
from sqlalchemy import select

from ccctl.cli import main
from ccctl.records.audit import default_actor
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.patients import Patient


@pytest.fixture
def ccctl(db_url, tmp_path, monkeypatch):
    """Run `ccctl -c <settings with the test database> ARGS...`; returns click's Result."""
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database:\n  url: {db_url}\n")

    def run(*args: str, stdin: str | None = None):
        return CliRunner().invoke(main, ["-c", str(settings), *args], input=stdin)

    return run


def audit_rows(url):
    with session_on(url) as session:
        return [(a.actor, a.action, a.patient_id, a.source) for a in session.scalars(select(AuditEntry))]


def add_ann(ccctl):
    return ccctl(
        "patients", "add", "--given", "Ann", "--family", "Lee", "--phone", "+48 600-100-200", "--phone", "022 555 0102",
        "--member-number", "10000001", "--specialty", "pediatrics", "--language", "pl",
        "--field", "date_of_birth=2019-04-02", "--field", "guardian_name=Mary Lee", "--field", "allergies=penicillin",
    )  # fmt: skip


def test_add_then_show_writes_an_audit_row(ccctl, db_url):
    result = add_ann(ccctl)
    assert (result.exit_code, result.output) == (0, "P000001\n")
    result = ccctl("patients", "show", "P000001", "--as", "dr.house")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[:10] == [
        "code:          P000001",
        "name:          Ann Lee",
        "member:        yes, number 10000001",
        "phones:        +48600100200, 0225550102",
        "specialty:     pediatrics",
        "language:      pl",
        "PIN:           not set",
        "wrong PINs:    0",
        "locked until:  no",
        lines[9],
    ]
    assert lines[9].startswith("created:       ")
    assert lines[10:] == [
        "fields:",
        "  allergies: (sensitive: add --sensitive)",
        "  date_of_birth: 2019-04-02",
        "  guardian_name: Mary Lee",
    ]
    assert audit_rows(db_url)[-1] == ("dr.house", "show", 1, "cli")
    with session_on(db_url) as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "show"))
        assert entry.at is not None

    result = ccctl("patients", "show", "P000001", "--sensitive", "--json")
    record = json.loads(result.output)
    assert record["custom_fields"]["allergies"] == "penicillin"
    assert "pin_hash" not in result.output and "has_pin" in record
    assert audit_rows(db_url)[-1] == (default_actor(), "show", 1, "cli")


def test_show_never_prints_the_pin_hash(ccctl, db_url):
    add_ann(ccctl)
    assert ccctl("patients", "set-pin", "P000001", "--pin-stdin", stdin="2580\n").output == "PIN set for P000001\n"
    with session_on(db_url) as session:
        pin_hash = session.scalars(select(Patient.pin_hash)).one()
    for args in (("show", "P000001"), ("show", "P000001", "--json", "--sensitive"), ("list", "--json")):
        result = ccctl("patients", *args)
        assert result.exit_code == 0
        assert pin_hash not in result.output and "argon2" not in result.output
    assert "PIN:           set" in ccctl("patients", "show", "P000001").output


def test_set_pin_from_a_hidden_prompt_only(ccctl, db_url):
    add_ann(ccctl)
    result = ccctl("patients", "set-pin", "P000001", stdin="13579\n13579\n")
    assert result.exit_code == 0 and "13579" not in result.output
    assert result.stdout == "PIN set for P000001\n"
    result = ccctl("patients", "set-pin", "P000001", "13579")
    assert result.exit_code == 2 and "unexpected extra argument" in result.output
    result = ccctl("patients", "set-pin", "P000001", "--pin-stdin", stdin="12a45\n")
    assert (result.exit_code, result.stderr) == (1, "ccctl: a PIN is 4 to 8 digits\n")
    assert [row[1] for row in audit_rows(db_url)] == ["add", "set_pin"]


def test_unlock(ccctl, db_url):
    add_ann(ccctl)
    assert ccctl("patients", "unlock", "P000001").output == "P000001 was not locked; wrong PINs reset\n"
    result = ccctl("patients", "unlock", "P404")
    assert (result.exit_code, result.stderr) == (1, "ccctl: no patient with code 'P404'\n")


def test_list_with_filters(ccctl):
    add_ann(ccctl)
    ccctl("patients", "add", "--code", "N-1", "--given", "Jan", "--phone", "+48 700")
    result = ccctl("patients", "list")
    assert result.output.splitlines() == [
        "CODE     NAME     MEMBER  SPECIALTY   PHONES",
        "N-1      Jan      no      -           +48700",
        "P000001  Ann Lee  yes     pediatrics  +48600100200, 0225550102",
    ]
    assert [r["patient_code"] for r in json.loads(ccctl("patients", "list", "--member", "--json").output)] == [
        "P000001"
    ]
    assert [r["patient_code"] for r in json.loads(ccctl("patients", "list", "--non-member", "--json").output)] == [
        "N-1"
    ]
    listed = json.loads(ccctl("patients", "list", "--json").output)
    assert listed[1]["custom_fields"] == {"date_of_birth": "2019-04-02", "guardian_name": "Mary Lee"}  # no allergies
    assert ccctl("patients", "list", "--specialty", "cardiology").output == "no patients\n"
    assert "P000001" in ccctl("patients", "list", "--search", "+48 600 100 200").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--given", "A", "--specialty", "cardiology", "--field", "ejection_fraction=200"), "field 'ejection_fraction' (integer): must be between 5 and 85"),
        (("--given", "A", "--field", "no-equals"), "--field: expected NAME=VALUE"),
        (("--given", "A", "--phone", "call me"), "phone 1: not a phone number (3 to 20 digits, optional leading +)"),
        (("--given", "A", "--member-number", "1234567"), "a member needs a given name and a family name"),
    ],
)  # fmt: skip
def test_add_errors_are_one_line(ccctl, args, message):
    result = ccctl("patients", "add", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"ccctl: {message}\n")


def test_import_good_file(ccctl):
    result = ccctl("patients", "import", str(CSV_DIR / "good.csv"), "--as", "importer")
    assert (result.exit_code, result.output) == (0, f"imported 5 patients from {CSV_DIR / 'good.csv'}\n")
    assert len(json.loads(ccctl("patients", "list", "--json").output)) == 5


def test_import_bad_file_reports_every_line_and_stores_nothing(ccctl):
    file = CSV_DIR / "three_bad.csv"
    result = ccctl("patients", "import", str(file))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{file}:3: phone 1: not a phone number (3 to 20 digits, optional leading +)",
        f"{file}:4: field 'ejection_fraction' (integer): must be between 5 and 85",
        f"{file}:6: pin: a PIN is 4 to 8 digits",
        f"ccctl: {file}: 3 problems, nothing imported",
    ]
    assert ccctl("patients", "list").output == "no patients\n"


def test_commands_before_the_schema_exists_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("CCCTL_CONFIG", raising=False)
    settings = tmp_path / "ccctl.yaml"
    url = f"sqlite:///{tmp_path / 'var' / 'ccctl.db'}"
    settings.write_text(f"database:\n  url: {url}\n")
    result = CliRunner().invoke(main, ["-c", str(settings), "patients", "list"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"ccctl: database {url}: no such file {tmp_path / 'var' / 'ccctl.db'} (run `ccctl db upgrade` first)\n"
    )
