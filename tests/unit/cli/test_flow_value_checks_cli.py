"""Values are checked against the flows where they enter: a PIN or member number no authenticate node can take
and a patient language with no prompt set are refused by `ccctl patients add/set-pin/import`, naming the range
or the languages and the flow; nothing is written."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ccctl.cli import main

REPO = Path(__file__).resolve().parents[3]
MAIN_FLOW = REPO / "ivr_flows" / "main.yaml"


def run(settings: Path, *args: str, stdin: str | None = None):
    return CliRunner().invoke(main, ["-c", str(settings), *args], input=stdin)


def shipped_flows(settings_file: Path) -> Path:
    """The test's settings with the shipped flows, whose authenticate node takes PINs of 4 to 6 digits."""
    settings_file.write_text(settings_file.read_text() + f"flows_dir: {REPO / 'ivr_flows'}\n")
    return settings_file


def auth_line() -> int:
    lines = MAIN_FLOW.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip() == "type: authenticate")


def test_a_pin_longer_than_the_flows_take_is_refused_naming_the_range_and_the_node(settings_file):
    settings = shipped_flows(settings_file)
    added = run(settings, "patients", "add", "--given", "Ann", "--family", "Lee", "--member-number", "10000001")
    assert added.exit_code == 0, added.output

    refused = run(settings, "patients", "set-pin", "P000001", "--pin-stdin", stdin="12345678\n")

    assert refused.exit_code == 1
    assert refused.output == (
        "ccctl: a PIN of 8 digits cannot be keyed in: the flows take 4 to 6 "
        f"(authenticate node at {MAIN_FLOW}:{auth_line()})\n"
    )
    assert "12345678" not in refused.output
    assert run(settings, "patients", "set-pin", "P000001", "--pin-stdin", stdin="123456\n").exit_code == 0


def test_a_language_with_no_prompt_set_and_a_member_number_too_long_are_refused(settings_file):
    settings = shipped_flows(settings_file)

    german = run(settings, "patients", "add", "--given", "Jan", "--language", "de")
    assert german.exit_code == 1
    assert german.output == (
        f"ccctl: language 'de': the flows speak en, pl, zh (a language needs {REPO / 'ivr_flows'}"
        "/prompt_text/de.yaml)\n"
    )
    long_number = run(
        settings, "patients", "add", "--given", "Jan", "--family", "Nowak", "--member-number", "123456789012"
    )
    assert long_number.exit_code == 1
    assert "a member number of 12 digits cannot be keyed in: the flows take 6 to 10" in long_number.output
    assert run(settings, "patients", "list").output.startswith("no patients")


def test_import_names_every_row_the_flows_refuse_and_imports_nothing(settings_file, tmp_path):
    settings = shipped_flows(settings_file)
    csv_file = tmp_path / "patients.csv"
    csv_file.write_text(
        "given_name,family_name,phones,member_number,pin,language\n"
        "Anna,Kowalska,+48600100200,10000001,2580,pl\n"
        "Hans,Meier,+49301234567,,,de\n"
        "Wei,Zhang,+8613800000001,10000002,1234567,zh\n"
    )

    result = run(settings, "patients", "import", str(csv_file))

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{csv_file}:3: language 'de': the flows speak en, pl, zh (a language needs {REPO / 'ivr_flows'}"
        "/prompt_text/de.yaml)",
        f"{csv_file}:4: a PIN of 7 digits cannot be keyed in: the flows take 4 to 6 "
        f"(authenticate node at {MAIN_FLOW}:{auth_line()})",
        "ccctl: 2 rows refused, nothing imported",
    ]
    assert run(settings, "patients", "list").output.startswith("no patients")
