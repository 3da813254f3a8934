"""The demo's own database: where it is, what the demo seeds into it, and the refusal to seed real data.

The demo publishes a supervisor password and adds members, agents and tickets of made-up callers: none
of that may end up in the database an operator runs `ccctl serve` on, so the demo has a file of its own
and refuses any database holding patients it did not create.
"""

from __future__ import annotations

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from ccctl.errors import UserError
from ccctl.records.database import make_engine, safe_url, sqlite_file
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.patients import Patient
from ccctl.sim.callers import KnownMember

DEMO_DATABASE = "var/ccctl-demo.db"
DEMO_ACTOR = "ccctl-demo"
DEMO_SUPERVISOR = "demo"
DEMO_PASSWORD = "demo-password"
# members the simulated callers use; seeded once into the demo database
DEMO_MEMBERS = [
    KnownMember(phone=f"1390000{n:04d}", member_number=f"{880000 + n}", pin=f"{(n * 7919) % 10000:04d}")
    for n in range(1, 13)
]
DEMO_NAMES = [
    ("Anna", "Kowalska"), ("Wei", "Zhang"), ("John", "Smith"), ("Maria", "Nowak"),
    ("Li", "Wang"), ("Peter", "Brown"), ("Ewa", "Wisniewska"), ("Mei", "Chen"),
    ("Tom", "Jones"), ("Piotr", "Lewandowski"), ("Fang", "Liu"), ("Sarah", "Taylor"),
]  # fmt: skip


class NotADemoDatabase(UserError):
    """The database holds patients the demo did not create; str() names the database, never a patient."""


def demo_database_url(database: str | None) -> str:
    """--database, else the demo's own SQLite file (never the `ccctl serve` database of ccctl.yaml)."""
    return database or f"sqlite:///{DEMO_DATABASE}"


def shown_database(url: str) -> str:
    """The database as the demo names it on screen: a SQLite file's path, else the URL without password."""
    file = sqlite_file(url)
    return str(file) if file is not None else safe_url(url)


def refuse_real_data(url: str) -> None:
    """NotADemoDatabase when the database has patients that no `ccctl demo` added (checked before any change)."""
    file = sqlite_file(url)
    if file is not None and not file.exists():
        return
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        if "patients" not in tables:
            return
        with Session(engine) as session:
            added_by_demo = select(AuditEntry.patient_id).where(
                AuditEntry.actor == DEMO_ACTOR, AuditEntry.action == "add"
            )
            others = session.scalar(select(func.count()).select_from(Patient).where(Patient.id.not_in(added_by_demo)))
    finally:
        engine.dispose()
    if others:
        raise NotADemoDatabase(
            f"database {shown_database(url)} holds {others} patients the demo did not create: the demo seeds "
            "only a database of its own (leave out --database, or name a new one)"
        )


def seed_demo_members(url: str) -> int:
    """Add the demo members (with their PINs) that are not in the database yet; how many were added."""
    from ccctl.patients import commands as patient_commands
    from ccctl.patients.repository import PatientData, find_by_member_number

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            missing = [m for m in DEMO_MEMBERS if find_by_member_number(session, m.member_number) is None]
    finally:
        engine.dispose()
    for member in missing:
        given, family = DEMO_NAMES[DEMO_MEMBERS.index(member)]
        data = PatientData(given, family, [member.phone], member_number=member.member_number)
        code = patient_commands.add(url, data, None, DEMO_ACTOR)
        patient_commands.set_pin(url, code, member.pin, DEMO_ACTOR)
    return len(missing)
