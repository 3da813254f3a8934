"""CSV import on SQLite and PostgreSQL: all rows or none, every bad row named by file and line."""

import pytest
from patient_fixtures import CSV_DIR, SPECIALTIES, session_on
from sqlalchemy import func, select

from ccctl.patients.csv_import import ImportFailed, import_patients
from ccctl.patients.pins import PinHasher
from ccctl.patients.repository import find_by_code, find_by_phone, patient_record
from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.patients import Patient


@pytest.fixture(scope="module")
def hasher():
    return PinHasher()


def run_import(url, path, hasher):
    engine = make_engine(url)
    try:
        return import_patients(engine, path, SPECIALTIES, hasher, "importer")
    finally:
        engine.dispose()


def patient_count(url):
    with session_on(url) as session:
        return session.scalar(select(func.count()).select_from(Patient))


def failure(url, path, hasher):
    with pytest.raises(ImportFailed) as err:
        run_import(url, path, hasher)
    return [str(problem) for problem in err.value.problems], str(err.value)


def test_good_file_is_stored_whole(db_url, hasher):
    codes = run_import(db_url, CSV_DIR / "good.csv", hasher)
    assert codes == ["C-100", "P000001", "P000002", "P000003", "P000004"]
    with session_on(db_url) as session:
        anna = patient_record(find_by_code(session, "C-100"))
        sean = patient_record(find_by_code(session, "P000002"))
        tom = patient_record(find_by_code(session, "P000003"))
        assert find_by_phone(session, "+1 212 555 0199").patient_code == "P000004"
        assert hasher.matches(find_by_code(session, "C-100").pin_hash, "2580")
        assert find_by_code(session, "P000003").pin_hash is None
        audit = [(a.actor, a.action, a.source, a.detail) for a in session.scalars(select(AuditEntry))]
    assert (anna.member_number, anna.phones, anna.language) == ("10000001", ["+48600100200", "0225550102"], "pl")
    assert anna.custom_fields == {"ejection_fraction": 45, "pacemaker": True}
    assert (sean.given_name, sean.member, sean.custom_fields) == ("O'Brien, Jr.", False, {})
    assert tom.custom_fields == {"date_of_birth": "2019-04-02", "guardian_name": "Mary Little"}
    assert audit[0] == ("importer", "import", "cli", "good.csv:2") and audit[-1][3] == "good.csv:7"


def test_three_bad_rows_among_good_ones_store_nothing(db_url, hasher):
    file = CSV_DIR / "three_bad.csv"
    problems, summary = failure(db_url, file, hasher)
    assert problems == [
        f"{file}:3: phone 1: not a phone number (3 to 20 digits, optional leading +)",
        f"{file}:4: field 'ejection_fraction' (integer): must be between 5 and 85",
        f"{file}:6: pin: a PIN is 4 to 8 digits",
    ]
    assert summary == f"{file}: 3 problems, nothing imported"
    assert "24680x" not in "\n".join(problems)
    assert patient_count(db_url) == 0


def test_missing_cells_and_duplicates_within_the_file(db_url, hasher):
    file = CSV_DIR / "missing_cells.csv"
    assert failure(db_url, file, hasher)[0] == [
        f"{file}:3: missing column 'phones' (the row has 2 of 4 cells)",
        f"{file}:4: member number also on line 2",
    ]
    assert patient_count(db_url) == 0


def test_codes_and_member_numbers_already_stored(db_url, hasher):
    run_import(db_url, CSV_DIR / "good.csv", hasher)
    file = CSV_DIR / "good.csv"
    assert failure(db_url, file, hasher)[0] == [
        f"{file}:2: patient code 'C-100' already stored",
        f"{file}:2: member number already stored for another patient",
        f"{file}:3: member number already stored for another patient",
        f"{file}:5: member number already stored for another patient",
    ]
    assert patient_count(db_url) == 5


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("given_name,phones\nA,+48 1\n", ["{file}:1: missing column 'family_name'"]),
        (
            "given_name,family_name,phones,shoe_size\n",
            ["{file}:1: unknown column 'shoe_size' (neither a patient column nor a field)"],
        ),
        ("", ["{file}:1: empty file (expected a header line)"]),
        (
            "given_name,family_name,phones,pin,patient_code\nA,B,+481,1234,X\nC,D,+482,,X\n",
            [
                "{file}:2: pin: only a member (with a member number) has a PIN",
                "{file}:3: patient code 'X' also on line 2",
            ],
        ),
        (
            "given_name,family_name,phones,specialty,ejection_fraction\nA,B,+481,pediatrics,50\n",
            ["{file}:2: field 'ejection_fraction': not a pediatrics field"],
        ),
        ("given_name,family_name,phones\nA,B,+481,extra\n", ["{file}:2: 4 cells but the header has 3 columns"]),
    ],
)
def test_file_problems(sqlite_url, tmp_path, hasher, text, problems):
    file = tmp_path / "patients.csv"
    file.write_text(text)
    assert failure(sqlite_url, file, hasher)[0] == [problem.format(file=file) for problem in problems]


def test_unreadable_file_is_one_problem(sqlite_url, tmp_path, hasher):
    file = tmp_path / "absent.csv"
    assert failure(sqlite_url, file, hasher)[0] == [f"{file}:0: cannot read (No such file or directory)"]
