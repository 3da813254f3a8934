"""The booking panel beside the agent's screen pop: the patient's visits, free slots, book / move / cancel.

Server-rendered forms (CSRF like every console form). Agents open only patients of their recent calls, as on
the patient page; each view and change is audited and every change is told to the patient after it commits.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import gevent
from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from ccctl.appointments import commands
from ccctl.appointments.consult import RING_SECONDS, ConsultError, start_consult
from ccctl.appointments.errors import AppointmentError, SlotNotBookable, SlotTaken
from ccctl.appointments.experts import RosterError, expert_to_dial, roster
from ccctl.appointments.notify import Notice, deliver
from ccctl.records.audit import record_audit
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import Patient
from ccctl.web.context import audit_source, require_role, web

log = logging.getLogger("ccctl.web")
blueprint = Blueprint("appointments", __name__)

ROLES = ("admin", "supervisor", "agent")
CHANGES = {"cancel": "cancelled", "confirm": "confirmed", "move": "moved"}

# the panel's own words; anything else comes from the console's (ccctl/web/words.py)
PANEL_WORDS = {
    "en": {
        "appointments": "Appointments",
        "upcoming_visits": "Upcoming visits",
        "past_visits": "Past visits",
        "free_slots": "Free slots",
        "department": "Department",
        "doctor": "Doctor",
        "any_doctor": "Any doctor",
        "when": "When",
        "show": "Show",
        "book": "Book",
        "move": "Move",
        "move_here": "Move here",
        "cancel_visit": "Cancel",
        "confirm_visit": "Confirm",
        "moving": "Moving visit {id}: choose its new slot.",
        "no_slots": "No free slots in the next {days} days.",
        "done_booked": "Visit {id} booked; the patient is told.",
        "done_moved": "Visit moved (now {id}); the patient is told.",
        "done_cancelled": "Visit {id} cancelled; the patient is told.",
        "done_confirmed": "Visit {id} confirmed; the patient is told.",
        "slot_taken": "Someone else has just booked this slot. Choose another.",
        "slot_not_bookable": "This slot cannot be booked (blocked or already started).",
        "not_changeable": "This visit can no longer be changed.",
        "times_in": "Times in {zone}.",
        "experts_on_duty": "Experts on duty",
        "hours": "Hours",
        "consult": "Add to the call",
        "book_with_expert": "Book a call-back",
        "no_experts": "No expert is on duty now.",
        "done_consult": "{expert} is joining the call; the consultation is recorded with it.",
        "consult_failed": "The expert could not be added: {why}",
    },
    "zh": {
        "appointments": "预约",
        "upcoming_visits": "即将到来的就诊",
        "past_visits": "过去的就诊",
        "free_slots": "可预约时段",
        "department": "科室",
        "doctor": "医生",
        "any_doctor": "任何医生",
        "when": "时间",
        "show": "显示",
        "book": "预约",
        "move": "改期",
        "move_here": "改到此时段",
        "cancel_visit": "取消",
        "confirm_visit": "确认",
        "moving": "正在改期就诊 {id}：请选择新的时段。",
        "no_slots": "未来 {days} 天内没有可预约时段。",
        "done_booked": "就诊 {id} 已预约，已通知患者。",
        "done_moved": "就诊已改期（现为 {id}），已通知患者。",
        "done_cancelled": "就诊 {id} 已取消，已通知患者。",
        "done_confirmed": "就诊 {id} 已确认，已通知患者。",
        "slot_taken": "该时段刚被他人预约，请选择其他时段。",
        "slot_not_bookable": "该时段无法预约（已停诊或已开始）。",
        "not_changeable": "该就诊已无法更改。",
        "times_in": "时间为 {zone} 时区。",
        "experts_on_duty": "值班专家",
        "hours": "时间",
        "consult": "加入通话",
        "book_with_expert": "预约回电",
        "no_experts": "目前没有专家值班。",
        "done_consult": "{expert} 正在加入通话；会诊与通话一起录音。",
        "consult_failed": "无法加入专家：{why}",
    },
    "pl": {
        "appointments": "Wizyty",
        "upcoming_visits": "Nadchodzące wizyty",
        "past_visits": "Wcześniejsze wizyty",
        "free_slots": "Wolne terminy",
        "department": "Poradnia",
        "doctor": "Lekarz",
        "any_doctor": "Dowolny lekarz",
        "when": "Termin",
        "show": "Pokaż",
        "book": "Zarezerwuj",
        "move": "Przenieś",
        "move_here": "Przenieś tutaj",
        "cancel_visit": "Odwołaj",
        "confirm_visit": "Potwierdź",
        "moving": "Przenoszenie wizyty {id}: wybierz nowy termin.",
        "no_slots": "Brak wolnych terminów w ciągu {days} dni.",
        "done_booked": "Wizyta {id} zarezerwowana; pacjent zostanie powiadomiony.",
        "done_moved": "Wizyta przeniesiona (teraz {id}); pacjent zostanie powiadomiony.",
        "done_cancelled": "Wizyta {id} odwołana; pacjent zostanie powiadomiony.",
        "done_confirmed": "Wizyta {id} potwierdzona; pacjent zostanie powiadomiony.",
        "slot_taken": "Ktoś właśnie zarezerwował ten termin. Wybierz inny.",
        "slot_not_bookable": "Tego terminu nie można zarezerwować (zablokowany lub już się zaczął).",
        "not_changeable": "Tej wizyty nie można już zmienić.",
        "times_in": "Godziny w strefie {zone}.",
        "experts_on_duty": "Dyżurni eksperci",
        "hours": "Godziny",
        "consult": "Dodaj do rozmowy",
        "book_with_expert": "Umów oddzwonienie",
        "no_experts": "Żaden ekspert nie ma teraz dyżuru.",
        "done_consult": "{expert} dołącza do rozmowy; konsultacja jest nagrywana razem z nią.",
        "consult_failed": "Nie udało się dodać eksperta: {why}",
    },
}


def panel_word(key: str, **values) -> str:
    language = getattr(g, "user", None) and g.user.language or "en"
    words = PANEL_WORDS.get(language, PANEL_WORDS["en"])
    return (words.get(key) or PANEL_WORDS["en"][key]).format(**values)


def _may_open(db: Session, patient_id: int) -> bool:
    """Admins and supervisors open any patient; an agent those of their recent calls (the refusal audited)."""
    if g.user.role != "agent" or web().screen_pops.may_open_patient(db, g.user.agent, patient_id):
        return True
    record_audit(db, g.user.name, "view_refused", patient_id, audit_source(), detail="appointments")
    log.warning(
        "agent %s refused the appointments of patient id %d (not on their recent calls)", g.user.name, patient_id
    )
    return False


def _local(zone: ZoneInfo):
    def local(value: datetime) -> str:
        return f"{value.astimezone(zone):%Y-%m-%d %H:%M}"

    return local


def _panel_data(db: Session, patient_id: int, department: str, doctor: str):
    """The patient's visits (the read audited), the departments, the chosen one's doctors and free slots."""
    visits = commands.read_visits(db, patient_id, g.user.name, audit_source())
    departments = commands.departments(db)
    if not department and departments:
        department = departments[0][0]
    doctors = commands.doctors_of(db, department) if department else []
    if doctor not in {code for code, _ in doctors}:
        doctor = ""
    slots = commands.free_slots_ahead(db, web().settings, department, doctor or None, limit=60) if department else []
    return visits, departments, doctors, slots, department, doctor


def _render(patient_id: int, message: str = "", status: int = 200, error: bool = False):
    ctx = web()
    settings = ctx.settings
    department = request.args.get("department") or request.form.get("department") or ""
    doctor = request.args.get("doctor") or request.form.get("doctor") or ""
    moving = request.args.get("move", type=int)
    with ctx.transaction() as db:
        patient = db.get(Patient, patient_id)
        if patient is None:
            abort(404)
        allowed = _may_open(db, patient_id)
        if allowed:
            visits, departments, doctors, slots, department, doctor = _panel_data(db, patient_id, department, doctor)
            experts = roster(db, utc_now(), commands.zone_of(settings))
    if not allowed:
        abort(403)  # after the commit: the refusal's audit row stays
    zone = commands.zone_of(settings)
    page = render_template(
        "appointments_panel.html",
        patient_id=patient_id,
        patient_code=patient.patient_code,
        visits=visits,
        departments=departments,
        doctors=doctors,
        department=department,
        doctor=doctor,
        slots=slots,
        moving=moving,
        experts=experts,
        can_consult=g.user.role == "agent" and bool(g.user.agent),
        message=message,
        error=error,
        local=_local(zone),
        zone=settings.appointments.timezone,
        days=settings.appointments.lookahead_days,
        w=panel_word,
    )
    return page, status


@blueprint.get("/patients/<int:patient_id>/appointments")
@require_role(*ROLES)
def panel(patient_id: int):
    done, done_id = request.args.get("done", ""), request.args.get("id", type=int)
    message = panel_word(f"done_{done}", id=done_id) if done in CHANGES.values() or done == "booked" else ""
    return _render(patient_id, message)


def _deliver_later(notice: Notice) -> None:
    """Tell the patient after the change is committed, without holding the agent's page on the SMS gateway."""
    ctx = web()

    def send() -> None:
        try:
            with Session(ctx.engine, expire_on_commit=False) as db:
                deliver(db, ctx.settings, notice)
        except Exception:  # a gateway or database failure must not go unseen, nor reach the agent's page
            log.exception("appointment notice %s %s not sent", notice.channel, notice.message_id)

    gevent.spawn(send)


def _refusal(patient_id: int, exc: AppointmentError):
    key = (
        "slot_taken"
        if isinstance(exc, SlotTaken)
        else "slot_not_bookable"
        if isinstance(exc, SlotNotBookable)
        else "not_changeable"
    )
    return _render(patient_id, panel_word(key), status=409, error=True)


def _back(patient_id: int, done: str, appointment_id: int):
    keep = {k: request.form[k] for k in ("department", "doctor") if request.form.get(k)}
    return redirect(url_for("appointments.panel", patient_id=patient_id, done=done, id=appointment_id, **keep), 303)


@blueprint.post("/patients/<int:patient_id>/appointments")
@require_role(*ROLES)
def book(patient_id: int):
    ctx = web()
    slot_id = request.form.get("slot_id", type=int)
    if slot_id is None:
        abort(400)
    try:
        with ctx.transaction() as db:
            allowed = _may_open(db, patient_id)
            if allowed:
                done = commands.staff_book(db, ctx.settings, patient_id, slot_id, g.user.name, audit_source())
    except AppointmentError as exc:
        return _refusal(patient_id, exc)
    if not allowed:
        abort(403)
    _deliver_later(done.notice)
    return _back(patient_id, "booked", done.appointment.id)


@blueprint.post("/patients/<int:patient_id>/appointments/<int:appointment_id>/<action>")
@require_role(*ROLES)
def change(patient_id: int, appointment_id: int, action: str):
    ctx = web()
    if action not in CHANGES:
        abort(404)
    slot_id = request.form.get("slot_id", type=int)
    if action == "move" and slot_id is None:
        abort(400)
    try:
        with ctx.transaction() as db:
            allowed = _may_open(db, patient_id)
            if allowed:
                done = commands.staff_change(
                    db,
                    ctx.settings,
                    appointment_id,
                    CHANGES[action],
                    g.user.name,
                    audit_source(),
                    slot_id=slot_id,
                    patient_id=patient_id,
                )
    except AppointmentError as exc:
        return _refusal(patient_id, exc)
    if not allowed:
        abort(403)
    _deliver_later(done.notice)
    return _back(patient_id, CHANGES[action], done.appointment.id)


@blueprint.post("/patients/<int:patient_id>/appointments/consult")
@require_role("agent")
def consult(patient_id: int):
    """The agent adds an expert on duty to their own live call (appointments/consult.py)."""
    ctx = web()
    code = request.form.get("expert", "")
    inbound = ctx.controller.inbound
    with ctx.transaction() as db:
        if not _may_open(db, patient_id):
            abort(403)
        try:
            if inbound is None:
                raise ConsultError("no connection to FreeSWITCH")
            dial = expert_to_dial(db, code).dial_string

            def api(command: str) -> str:  # on the node of the call the command names
                client = ctx.controller.nodes.client_for_command(command)
                return client.api(command, timeout=RING_SECONDS + ctx.settings.esl.command_timeout)

            start_consult(api, db, g.user.agent, dial, code, ctx.settings.freeswitch.domain, RING_SECONDS)
        except (ConsultError, RosterError) as exc:
            return _render(patient_id, panel_word("consult_failed", why=str(exc)), status=409, error=True)
        except (
            Exception
        ) as exc:  # the switch connection failed mid-way: say so on the page, keep the details in the log
            log.warning("consultation of %s not started (%s)", g.user.name, type(exc).__name__)
            return _render(patient_id, panel_word("consult_failed", why=type(exc).__name__), status=502, error=True)
    log.info("%s added expert %s to their call", g.user.name, code)
    return _render(patient_id, panel_word("done_consult", expert=code))
