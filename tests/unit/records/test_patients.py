"""The patients repository on SQLite and PostgreSQL: add, find, list, update, with every write checked."""

import pytest
from patient_fixtures import SPECIALTIES, add_patients, member, session_on

from ccctl.patients.repository import (
    PatientData,
    PatientError,
    PatientFilter,
    add_patient,
    find_by_code,
    find_by_member_number,
    find_by_phone,
    list_patients,
    normalise_phone,
    patient_record,
    update_patient,
)


def test_member_and_non_member_in_one_table_with_generated_codes(db_url):
    codes = add_patients(
        db_url,
        member(),
        PatientData(phones=["(555) 010-2030"]),
        PatientData(given_name="Bo", patient_code="CHOSEN-7"),
        PatientData(given_name="Cy"),
    )
    assert codes == ["P000001", "P000002", "CHOSEN-7", "P000003"]
    with session_on(db_url) as session:
        ann = patient_record(find_by_code(session, "P000001"))
        light = patient_record(find_by_code(session, "P000002"))
    assert (ann.member, ann.member_number, ann.display_name, ann.phones) == (
        True,
        "123456",
        "Ann Lee",
        ["+33612345678"],
    )
    assert ann.custom_fields == {"ejection_fraction": 55}
    assert (light.member, light.member_number, light.display_name, light.phones) == (False, None, "", ["5550102030"])
    assert not ann.has_pin


def test_generated_code_skips_a_code_chosen_by_hand(db_url):
    assert add_patients(db_url, PatientData(given_name="A", patient_code="P000002")) == ["P000002"]
    assert add_patients(db_url, PatientData(given_name="B"), PatientData(given_name="C")) == ["P000003", "P000004"]


@pytest.mark.parametrize(
    ("caller_number", "found"),
    [("+33612345678", True), ("+33 6 12 34 56 78", True), ("33612345678", False), ("", False)],
)
def test_caller_number_finds_the_patient_by_equality(db_url, caller_number, found):
    add_patients(db_url, member(phone="+33 (6) 12-34-56.78"))
    with session_on(db_url) as session:
        patient = find_by_phone(session, caller_number)
    assert (patient is not None) is found


def test_shared_phone_finds_the_member_first(db_url):
    add_patients(db_url, PatientData(given_name="Kid", phones=["+4812345678"]), member(phone="+48 123 456 78"))
    with session_on(db_url) as session:
        assert find_by_phone(session, "+4812345678").patient_code == "P000002"


def test_find_by_member_number_and_code(db_url):
    add_patients(db_url, member(number="98765432"), PatientData(given_name="Non", patient_code="N1"))
    with session_on(db_url) as session:
        assert find_by_member_number(session, "98765432").patient_code == "P000001"
        assert find_by_member_number(session, "11111111") is None
        assert find_by_code(session, "N1").given_name == "Non"
        assert find_by_code(session, "N2") is None


def test_list_filters_member_specialty_and_search(db_url):
    add_patients(
        db_url,
        member(number="1111", given_name="Anna", family_name="Kowalska", phone="+48111"),
        member(number="2222", given_name="Li", family_name="Wei", phone="+86222", specialty="", custom_fields={}),
        PatientData(given_name="Jan", family_name="Nowak", phones=["+48 333"]),
    )

    def codes(**filters):
        with session_on(db_url) as session:
            return [patient.patient_code for patient in list_patients(session, PatientFilter(**filters))]

    assert codes() == ["P000001", "P000002", "P000003"]
    assert codes(member=True) == ["P000001", "P000002"]
    assert codes(member=False) == ["P000003"]
    assert codes(specialty="cardiology") == ["P000001"]
    assert codes(search="KOWAL") == ["P000001"]
    assert codes(search="+48 333") == ["P000003"]
    assert codes(search="2222") == ["P000002"]
    assert codes(search="p00000") == ["P000001", "P000002", "P000003"]
    assert codes(limit=1) == ["P000001"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (member(phone="12ab34"), "phone 1: not a phone number (3 to 20 digits, optional leading +)"),
        (member(number="12-34"), "member number: must be 4 to 16 digits"),
        (member(family_name=""), "a member needs a given name and a family name"),
        (PatientData(), "a patient needs a name or a phone"),
        (PatientData(given_name="A", patient_code="no spaces"), "patient code: use 1 to 32 letters, digits, - or _"),
        (PatientData(given_name="A", language="English!"), "language: use a language code such as en, zh or pl"),
    ],
)
def test_bad_patient_data_is_refused_naming_the_field_not_the_value(db_url, data, message):
    with session_on(db_url) as session, pytest.raises(PatientError) as err:
        add_patient(session, data, SPECIALTIES)
    assert str(err.value) == message
    for secret in ("12ab34", "12-34"):
        assert secret not in str(err.value)


def test_duplicate_code_and_member_number_are_refused(db_url):
    add_patients(db_url, member(number="555555", patient_code="X1"))
    with session_on(db_url) as session, pytest.raises(PatientError, match="^patient code 'X1' already exists$"):
        add_patient(session, PatientData(given_name="B", patient_code="X1"), SPECIALTIES)
    with session_on(db_url) as session, pytest.raises(PatientError) as err:
        add_patient(session, member(number="555555"), SPECIALTIES)
    assert str(err.value) == "member number: already belongs to another patient"


def test_update_checks_the_whole_record_again(db_url):
    add_patients(db_url, member())
    with session_on(db_url) as session:
        update_patient(
            session, "P000001", {"phones": ["+1 (212) 555-0100", "+33612345678"], "language": "pl"}, SPECIALTIES
        )
    with session_on(db_url) as session:
        record = patient_record(find_by_code(session, "P000001"))
        # the phone kept comes first, then the new one
        assert (record.phones, record.language) == (["+33612345678", "+12125550100"], "pl")
        # a new specialty re-checks the stored fields: cardiology's do not fit pediatrics
        with pytest.raises(PatientError, match="^field 'ejection_fraction': not a pediatrics field$"):
            update_patient(session, "P000001", {"specialty": "pediatrics"}, SPECIALTIES)
        with pytest.raises(PatientError, match="^cannot change 'pin_hash'"):
            update_patient(session, "P000001", {"pin_hash": "x"}, SPECIALTIES)
        with pytest.raises(PatientError, match="^no patient with code 'P9'$"):
            update_patient(session, "P9", {"language": "en"}, SPECIALTIES)


def test_normalise_phone_keeps_the_leading_plus_only():
    assert normalise_phone(" +44 (20) 7946-0958 ") == "+442079460958"
    assert normalise_phone("020.7946.0958") == "02079460958"
