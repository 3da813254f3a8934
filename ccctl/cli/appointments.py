"""`ccctl schedule import|list|slots|experts|expert`, `ccctl appointments list|book|cancel|move|confirm` (visits
booked by staff) and `ccctl consult` (an expert added to an agent's call)."""

from __future__ import annotations

import click

from ccctl.cli.common import (
    CliError,
    actor_of,
    as_option,
    echo_json,
    echo_table,
    json_option,
    patch_gevent,
    run,
    say_connecting,
    settings_of,
)
from ccctl.esl.password_policy import check_esl_password


@click.group()
def schedule() -> None:
    """Departments, doctors and their bookable slots (docs/appointments.md)."""


@schedule.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--holidays",
    type=click.Path(dir_okay=False),
    help="Holiday calendar (default: the flows' calendars/holidays.yaml); slots on its days are imported blocked.",
)
@click.pass_context
def schedule_import(ctx, file: str, holidays: str | None) -> None:
    """Import a schedule CSV (times in appointments.timezone): all rows or none; again adds nothing."""
    from ccctl.appointments import commands
    from ccctl.patients.csv_import import ImportFailed

    settings = settings_of(ctx)

    def work():
        try:
            return commands.import_csv(settings, file, holidays)
        except ImportFailed as exc:  # every bad row first, then the one-line summary
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            raise

    summary = run(work)
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"imported {summary.slots_added} slots ({summary.slots_blocked} blocked, "
        f"{summary.slots_already_there} already there), {summary.departments_added} new departments, "
        f"{summary.doctors_added} new doctors from {file}"
    )


@schedule.command("list")
@click.option("--department", help="Only this department code.")
@json_option
@click.pass_context
def schedule_list(ctx, department: str | None, as_json: bool) -> None:
    """Departments, doctors, and free slots per day (site time) for appointments.lookahead_days."""
    from dataclasses import asdict

    from ccctl.appointments import commands

    settings = settings_of(ctx)
    found = run(lambda: commands.schedule(settings, department))
    if as_json:
        echo_json(asdict(found))
        return
    echo_table(
        ["department", "name", "doctors", "free slots"],
        [(d.code, d.name, d.doctors, d.free_slots) for d in found.departments],
        empty="no departments (ccctl schedule import FILE.csv)",
    )
    click.echo()
    echo_table(
        ["doctor", "name", "department", "expert"],
        [(d.code, d.name, d.department_code, "yes" if d.expert else "") for d in found.doctors],
        empty="no doctors",
    )
    click.echo()
    echo_table(
        ["day", "department", "doctor", "free slots", "first"],
        [(d.day, d.department_code, d.doctor_code, d.free_slots, d.first) for d in found.days],
        empty=f"no free slots in the next {settings.appointments.lookahead_days} days",
    )


@schedule.command("slots")
@click.option("--department", required=True, help="Department code.")
@click.option("--doctor", help="Only this doctor's code.")
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
@click.pass_context
def schedule_slots(ctx, department: str, doctor: str | None, limit: int, as_json: bool) -> None:
    """The next free slots of a department (and doctor) with their ids, for `appointments book --slot ID`."""
    from dataclasses import asdict

    from ccctl.appointments import commands

    settings = settings_of(ctx)
    found = run(lambda: commands.free_slots_listing(settings, department, doctor, limit))
    if as_json:
        echo_json([asdict(slot) for slot in found])
        return
    zone = commands.zone_of(settings)
    echo_table(
        ["slot", "time", "minutes", "doctor"],
        [(s.id, f"{s.starts_at.astimezone(zone):%Y-%m-%d %H:%M}", s.minutes, s.doctor_name) for s in found],
        empty=f"no free slots in {department} in the next {settings.appointments.lookahead_days} days",
    )


@schedule.command("experts")
@click.option("--all", "everyone", is_flag=True, help="Every expert on the roster, on duty now or not.")
@json_option
@click.pass_context
def schedule_experts(ctx, everyone: bool, as_json: bool) -> None:
    """The experts on duty now (site time, appointments.timezone), with how the switch reaches them."""
    from dataclasses import asdict

    from ccctl.appointments import commands
    from ccctl.appointments.experts import experts_on_roster

    settings = settings_of(ctx)
    rows = run(lambda: experts_on_roster(settings.database.url, commands.zone_of(settings), everyone))
    if as_json:
        echo_json([asdict(row) for row in rows])
        return
    echo_table(
        ["expert", "name", "department", "hours", "dial", "on now"],
        [(r.code, r.name, r.department_code, r.hours, r.dial_string, "yes" if r.on_now else "") for r in rows],
        empty="no expert on duty now (ccctl schedule experts --all)" if not everyone else "no experts on the roster",
    )


@schedule.command("expert")
@click.argument("code")
@click.option(
    "--hours", default="", help="When they take consultations, site time: 'Mon-Fri 14:00-16:00; Sat 09:00-12:00'."
)
@click.option("--dial", "dial_string", default="", help="How the switch reaches them: user/1201, or a gateway number.")
@click.option("--off", is_flag=True, help="Take the doctor off the expert roster.")
@click.pass_context
def schedule_expert(ctx, code: str, hours: str, dial_string: str, off: bool) -> None:
    """Put doctor CODE on the expert roster (or take them off it with --off)."""
    from ccctl.appointments.experts import put_on_roster

    settings = settings_of(ctx)
    row = run(lambda: put_on_roster(settings.database.url, code, hours, dial_string, expert=not off))
    if off:
        click.echo(f"doctor {row.code} is off the expert roster")
    else:
        click.echo(f"expert {row.code} ({row.name}): {row.hours}, dialled as {row.dial_string}")


@click.command("consult")
@click.argument("agent")
@click.option("--expert", "expert_code", default="", help="An expert's doctor code (ccctl schedule experts).")
@click.option("--dial", "dial_string", default="", help="Any dial string instead (an interpreter: user/1301).")
@click.pass_context
def consult(ctx, agent: str, expert_code: str, dial_string: str) -> None:
    """Add an expert (or an interpreter) to AGENT's live call: caller, agent and expert in one conference."""
    if bool(expert_code) == bool(dial_string):
        raise CliError("name one party to add: --expert CODE (the roster) or --dial STRING (an interpreter)")
    # the inbound ESL client reads in a greenlet: an unpatched socket blocks the command for good
    patch_gevent()
    from ccctl.appointments.consult import consult_call

    settings = settings_of(ctx)
    run(lambda: check_esl_password(settings))
    say_connecting(settings)
    result = run(lambda: consult_call(settings, agent, expert_code, dial_string))
    click.echo(
        f"{result.expert} joined the call of {result.agent} (conference {result.conference}); "
        "the consultation is recorded with the call"
    )


@click.group()
def appointments() -> None:
    """Patients' visits: list, book, cancel, move, confirm; each change is audited and the patient told."""


def _rows(visits, zone):
    return [
        (
            a.id,
            f"{a.slot.starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
            a.slot.department_code,
            a.slot.doctor_name,
            a.status,
            a.source,
            a.slot.id,
        )
        for a in visits
    ]


def _json(visit) -> dict:
    from dataclasses import asdict

    return asdict(visit)


@appointments.command("list")
@click.option("--patient", "code", required=True, help="Patient code.")
@json_option
@as_option
@click.pass_context
def appointments_list(ctx, code: str, as_json: bool, actor) -> None:
    """A patient's upcoming and past visits (times in appointments.timezone); the read is audited."""
    from ccctl.appointments import commands

    settings = settings_of(ctx)
    visits = run(lambda: commands.patient_visits(settings, code, actor_of(actor)))
    if as_json:
        echo_json({"upcoming": [_json(a) for a in visits.upcoming], "past": [_json(a) for a in visits.past]})
        return
    zone = commands.zone_of(settings)
    headers = ["appointment", "time", "department", "doctor", "status", "source", "slot"]
    click.echo("upcoming:")
    echo_table(headers, _rows(visits.upcoming, zone), empty="no upcoming visits")
    click.echo("past:")
    echo_table(headers, _rows(visits.past, zone), empty="no past visits")


def _report(settings, done, sent: str, verb: str) -> None:
    from ccctl.appointments import commands

    appointment = done.appointment
    when = f"{appointment.slot.starts_at.astimezone(commands.zone_of(settings)):%Y-%m-%d %H:%M}"
    click.echo(
        f"appointment {appointment.id} {verb}: slot {appointment.slot.id}, {when}, {appointment.slot.department_code}"
    )
    click.echo(f"patient told by {done.notice.channel}: {sent}" if done.notice.channel else f"patient not told: {sent}")


@appointments.command("book")
@click.option("--patient", "code", required=True, help="Patient code.")
@click.option("--slot", "slot_id", type=int, required=True, help="Slot id (ccctl schedule list, the console).")
@as_option
@click.pass_context
def appointments_book(ctx, code: str, slot_id: int, actor) -> None:
    """Book a free slot for a patient; the patient gets an SMS or e-mail."""
    from ccctl.appointments import commands

    settings = settings_of(ctx)
    done, sent = run(lambda: commands.book(settings, code, slot_id, actor_of(actor)))
    _report(settings, done, sent, "booked")


def _change_command(name: str, change: str, doc: str, with_slot: bool = False):
    @click.argument("appointment_id", type=int)
    @as_option
    @click.pass_context
    def command(ctx, appointment_id: int, actor, slot_id: int | None = None) -> None:
        from ccctl.appointments import commands

        settings = settings_of(ctx)
        done, sent = run(lambda: commands.change(settings, appointment_id, change, actor_of(actor), slot_id))
        _report(settings, done, sent, change)

    command.__doc__ = doc
    if with_slot:
        command = click.option("--slot", "slot_id", type=int, required=True, help="The new slot's id.")(command)
    return appointments.command(name)(command)


_change_command("cancel", "cancelled", "Cancel a visit; its slot is free again and the patient is told.")
_change_command("move", "moved", "Move a visit to another free slot (booked first, then the old one let go).", True)
_change_command("confirm", "confirmed", "Mark a visit confirmed; the patient is told.")


COMMANDS = (schedule, appointments, consult)
