"""`ccctl patients add|show|set-pin|unlock|erase|list|import`: patient records and member PINs."""

from __future__ import annotations

import csv
import json
import sys

import click

from ccctl.cli.common import CliError, actor_of, as_option, database_url, run, settings_of


@click.group()
def patients() -> None:
    """Patient records: members (member number + PIN) and non-members, custom fields per specialty."""


def _fields_dir_option(command):
    return click.option(
        "--fields-dir",
        type=click.Path(file_okay=False),
        help="Custom field definitions (default: ./patient_fields, else the shipped ones).",
    )(command)


@patients.command("add")
@click.option("--code", help="Patient code (default: the next P000123).")
@click.option("--given", default="", help="Given name.")
@click.option("--family", default="", help="Family name.")
@click.option("--phone", "phones", multiple=True, help="Phone number (repeatable).")
@click.option("--member-number", help="Makes the patient a member (4 to 16 digits).")
@click.option("--specialty", default="", help="Specialty whose custom fields apply (patient_fields/NAME.yaml).")
@click.option("--language", default="", help="Prompt language (en, zh, pl, ...).")
@click.option("--field", "fields", multiple=True, help="Custom field NAME=VALUE (repeatable).")
@_fields_dir_option
@as_option
@click.pass_context
def patients_add(ctx, code, given, family, phones, member_number, specialty, language, fields, fields_dir, actor):
    """Add a patient; prints its code."""
    from ccctl.patients import commands as patient_commands
    from ccctl.patients.repository import PatientData

    custom = {}
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CliError("--field: expected NAME=VALUE")
        custom[name.strip()] = value
    data = PatientData(given, family, list(phones), code, member_number, specialty, language, custom)
    accepts = _flow_accepts(ctx)
    run(lambda: (accepts.check_language(language.strip()), accepts.check_member_number(member_number or "")))
    url = database_url(ctx)
    click.echo(run(lambda: patient_commands.add(url, data, fields_dir, actor_of(actor))))


def _flow_accepts(ctx):
    """What the flows (settings flows_dir) can take from a caller: PIN and member number lengths, languages."""
    from ccctl.ivr.flow_accepts import flow_accepts

    return flow_accepts(settings_of(ctx).flows_dir)


@patients.command("show")
@click.argument("code")
@click.option("--sensitive", is_flag=True, help="Also print fields marked sensitive.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@_fields_dir_option
@as_option
@click.pass_context
def patients_show(ctx, code: str, sensitive: bool, as_json: bool, fields_dir, actor) -> None:
    """Print one patient's record (never the PIN hash); the read goes to the audit log."""
    from ccctl.campaigns.commands import patient_contacts
    from ccctl.campaigns.outcomes import contacts_lines, results_lines
    from ccctl.patients import commands as patient_commands
    from ccctl.surveys.commands import patient_surveys, surveys_lines

    url = database_url(ctx)
    specialties = run(lambda: patient_commands.specialties_from(fields_dir))
    record = run(lambda: patient_commands.show(url, code, actor_of(actor), sensitive))
    answered = patient_surveys(url, record.id)  # the survey answers are part of the record
    results, contacts = patient_contacts(url, record.id)  # and so are the campaigns' outcomes and contacts
    if as_json:
        data = patient_commands.record_json(record, specialties, sensitive)
        data["surveys"] = [{**item, "answered_at": item["answered_at"].isoformat()} for item in answered]
        data["campaign_results"] = results
        data["campaign_contacts"] = [{**item, "at": item["at"].isoformat()} for item in contacts]
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(patient_commands.format_record(record, specialties, sensitive))
        for line in surveys_lines(answered) + results_lines(results) + contacts_lines(contacts):
            click.echo(line)


@patients.command("set-pin")
@click.argument("code")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from the first line of standard input.")
@as_option
@click.pass_context
def patients_set_pin(ctx, code: str, pin_stdin: bool, actor) -> None:
    """Set a member's PIN (4-8 digits) from a hidden prompt, never from an argument."""
    from ccctl.patients import commands as patient_commands

    url = database_url(ctx)
    if pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = click.prompt("PIN", hide_input=True, confirmation_prompt=True, err=True).strip()
    run(lambda: _flow_accepts(ctx).check_pin(pin))  # a PIN the keypad prompts cannot take would lock them out
    run(lambda: patient_commands.set_pin(url, code, pin, actor_of(actor)))
    click.echo(f"PIN set for {code}")


@patients.command("unlock")
@click.argument("code")
@as_option
@click.pass_context
def patients_unlock(ctx, code: str, actor) -> None:
    """End a member's PIN lock-out and reset the count of wrong PINs."""
    from ccctl.patients import commands as patient_commands

    url = database_url(ctx)
    was_locked = run(lambda: patient_commands.unlock(url, code, actor_of(actor)))
    click.echo(f"unlocked {code}" if was_locked else f"{code} was not locked; wrong PINs reset")


@patients.command("erase")
@click.argument("code")
@click.option("--confirm", "confirm", required=True, help="The patient code again: nothing is erased without it.")
@click.option("--reason", required=True, help="Why (the request and its date; kept in the audit log).")
@as_option
@click.pass_context
def patients_erase(ctx, code: str, confirm: str, reason: str, actor) -> None:
    """Remove a patient's personal data on request: name, phones, e-mails, PIN, fields, recordings, voice
    messages and message bodies. Calls and KPIs stay, anonymised; the audit log keeps who erased whom and why."""
    from ccctl.patients.erase import erase

    url = database_url(ctx)
    erasure = run(lambda: erase(url, code, confirm, reason, actor_of(actor), "cli"))
    click.echo(erasure.summary())
    if erasure.files_left:
        raise CliError(f"{erasure.files_left} file(s) of {code} could not be deleted: check the permissions")


@patients.command("list")
@click.option("--member/--non-member", default=None, help="Only members, or only non-members.")
@click.option("--specialty", help="Only this specialty.")
@click.option("--search", help="Part of a name or code, or a whole phone or member number.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (sensitive fields left out) instead of a table.")
@_fields_dir_option
@as_option
@click.pass_context
def patients_list(ctx, member, specialty, search, limit: int, as_json: bool, fields_dir, actor) -> None:
    """List patients by code."""
    from ccctl.patients import commands as patient_commands
    from ccctl.patients.repository import PatientFilter

    url = database_url(ctx)
    filters = PatientFilter(member=member, specialty=specialty, search=search, limit=limit)
    specialties = run(lambda: patient_commands.specialties_from(fields_dir))
    records = run(lambda: patient_commands.list_records(url, filters, actor_of(actor)))
    if as_json:
        click.echo(json.dumps([patient_commands.record_json(r, specialties) for r in records], indent=2))
    else:
        click.echo(patient_commands.format_records(records))


@patients.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@_fields_dir_option
@as_option
@click.pass_context
def patients_import(ctx, file: str, fields_dir, actor) -> None:
    """Import patients from CSV: all rows or none; every bad row as FILE:LINE: reason."""
    from ccctl.patients import commands as patient_commands
    from ccctl.patients.csv_import import ImportFailed

    url = database_url(ctx)
    problems = _rows_the_flows_refuse(file, _flow_accepts(ctx))
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise CliError(f"{len(problems)} {'row' if len(problems) == 1 else 'rows'} refused, nothing imported")

    def work() -> list[str]:
        try:
            return patient_commands.import_csv(url, file, fields_dir, actor_of(actor))
        except ImportFailed as exc:  # every bad row first, then the one-line summary
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            raise

    codes = run(work)
    click.echo(f"imported {len(codes)} {'patient' if len(codes) == 1 else 'patients'} from {file}")


def _rows_the_flows_refuse(file: str, accepts) -> list[str]:
    """FILE:LINE: reason for each row whose language, member number or PIN no call could use."""
    from ccctl.ivr.flow_accepts import FlowsRefuse

    problems = []
    try:
        with open(file, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                try:
                    accepts.check_language((row.get("language") or "").strip())
                    accepts.check_member_number((row.get("member_number") or "").strip())
                    accepts.check_pin((row.get("pin") or "").strip())
                except FlowsRefuse as exc:
                    problems.append(f"{file}:{reader.line_num}: {exc}")
    except (OSError, UnicodeDecodeError, csv.Error):
        return []  # the import itself reports an unreadable file
    return problems


COMMANDS = (patients,)
