"""Custom fields per specialty: YAML definitions, values checked on write, messages that never repeat a value."""

import shutil
import textwrap

import pytest
from patient_fixtures import FIELDS_DIR, SPECIALTIES, add_patients, member, session_on

from ccctl.patients.fields import FieldDefinitionError, FieldValueError, check_custom_fields, load_specialties
from ccctl.patients.repository import PatientData, PatientError, add_patient, find_by_code


def test_shipped_specialties_load():
    assert sorted(SPECIALTIES) == ["cardiology", "general", "pediatrics"]
    assert SPECIALTIES["pediatrics"].fields["allergies"].sensitive


def test_values_are_stored_converted(db_url):
    fields = {
        "ejection_fraction": " 42 ",
        "pacemaker": "Yes",
        "anticoagulant": "warfarin",
        "inr_target": "2.50",
        "last_echo": "2026-03-01",
        "cardiologist": "Dr Nowak",
    }
    add_patients(db_url, member(custom_fields=fields))
    with session_on(db_url) as session:
        stored = find_by_code(session, "P000001").custom_fields
    assert stored == {
        "ejection_fraction": 42,
        "pacemaker": True,
        "anticoagulant": "warfarin",
        "inr_target": "2.50",
        "last_echo": "2026-03-01",
        "cardiologist": "Dr Nowak",
    }


@pytest.mark.parametrize(
    ("specialty", "fields", "message"),
    [
        ("cardiology", {"ejection_fraction": "93"}, "field 'ejection_fraction' (integer): must be between 5 and 85"),
        ("cardiology", {"ejection_fraction": "4.5"}, "field 'ejection_fraction': not a valid integer"),
        ("cardiology", {"inr_target": "lots"}, "field 'inr_target': not a valid decimal"),
        ("cardiology", {"last_echo": "01/02/2026"}, "field 'last_echo': not a valid date (use YYYY-MM-DD)"),
        ("cardiology", {"pacemaker": "maybe"}, "field 'pacemaker': not a valid boolean (use yes or no)"),
        (
            "cardiology",
            {"anticoagulant": "aspirin"},
            "field 'anticoagulant': not a valid choice of none, warfarin, apixaban, rivaroxaban, dabigatran",
        ),
        ("cardiology", {"guardian_name": "Mum"}, "field 'guardian_name': not a cardiology field"),
        ("pediatrics", {"guardian_name": "Mum"}, "field 'date_of_birth' (date): required for pediatrics patients"),
        (
            "general",
            {"national_id": "abc-123"},
            "field 'national_id' (text): does not match its pattern [0-9A-Z]{6,18}",
        ),
        (
            "dentistry",
            {"x": "1"},
            "specialty 'dentistry' has no field definitions (known: cardiology, general, pediatrics)",
        ),
        ("", {"pacemaker": "yes"}, "field 'pacemaker': a patient without a specialty has no custom fields"),
    ],
)
def test_bad_values_are_refused_per_specialty(db_url, specialty, fields, message):
    data = PatientData(given_name="A", specialty=specialty, custom_fields=fields)
    with session_on(db_url) as session, pytest.raises(PatientError) as err:
        add_patient(session, data, SPECIALTIES)
    assert str(err.value) == message
    for value in fields.values():
        assert value not in str(err.value).replace("[0-9A-Z]{6,18}", "")


def test_a_cardiology_hospital_collects_only_cardiology_fields(tmp_path):
    shutil.copy(FIELDS_DIR / "cardiology.yaml", tmp_path)
    only = load_specialties(tmp_path)
    with pytest.raises(FieldValueError, match="^specialty 'pediatrics' has no field definitions .known: cardiology.$"):
        check_custom_fields(only, "pediatrics", {"guardian_name": "Mum"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fields:\n  weight:\n    type: float\n", "{file}:2: field 'weight': 'type' must be one of text, integer"),
        ("fields:\n  Weight:\n    type: text\n", "{file}:2: field name 'Weight' must be lower-case letters"),
        ("fields:\n  w:\n    type: text\n    maximum: 3\n", "{file}:2: field 'w': unknown key 'maximum'"),
        ("fields:\n  c:\n    type: choice\n", "{file}:2: field 'c': a choice needs a non-empty 'values' list"),
        ("fields:\n  n:\n    type: integer\n    min: low\n", "{file}:2: field 'n': 'min' does not fit a integer"),
        ("fields:\n  t:\n    type: text\n    regex: '[a-'\n", "{file}:4: field 't': bad regex"),
        ("fields: [a, b]\n", "{file}: needs a mapping 'fields:' of field name -> definition"),
        ("fields:\n  a: [\n", "{file}:3: not valid YAML"),
    ],
)
def test_definition_errors_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "cardiology.yaml"
    path.write_text(text)
    with pytest.raises(FieldDefinitionError) as err:
        load_specialties(tmp_path)
    assert str(err.value).startswith(message.format(file=path))


def test_missing_directory_means_no_specialties(tmp_path):
    assert load_specialties(tmp_path / "absent") == {}


def test_yaml_dates_and_numbers_as_bounds(tmp_path):
    (tmp_path / "general.yaml").write_text(
        textwrap.dedent(
            """\
            fields:
              seen:
                type: date
                min: 2020-01-01
              dose:
                type: decimal
                max: 2.5
            """
        )
    )
    specialties = load_specialties(tmp_path)
    assert check_custom_fields(specialties, "general", {"seen": "2021-05-05", "dose": "2.5"}) == {
        "dose": "2.5",
        "seen": "2021-05-05",
    }
    with pytest.raises(FieldValueError, match="^field 'dose' \\(decimal\\): must be at most 2.5$"):
        check_custom_fields(specialties, "general", {"dose": "2.51"})
