"""Admin pages: patient search and changes (fields, PIN, unlock), hotlines and flows, users, the audit log.

Searches are POSTed so no name, phone or code ever lands in a URL, a browser history or an access log.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from ccctl.acd.agent_admin import (
    DISABLED,
    check_extension,
    disable_agent,
    edit_agent,
    edit_queue,
    enable_agent,
    remove_agent,
    remove_queue,
)
from ccctl.acd.agents import AgentError, add_agent, list_agents, parse_skills
from ccctl.acd.queue_rules import STRATEGIES, QueueRulesError
from ccctl.ivr.flow_accepts import FlowsRefuse, flow_accepts
from ccctl.patients.commands import listing_detail, specialties_from
from ccctl.patients.pins import PinFormatError, PinHasher, store_pin_hash, unlock_patient
from ccctl.patients.repository import (
    SEARCH_MAX_CHARS,
    PatientError,
    PatientFilter,
    check_filter,
    describe_changes,
    list_patients,
    patient_record,
    update_patient,
)
from ccctl.records.audit import record_audit
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import Patient
from ccctl.web.accounts import LANGUAGES, ROLES, AccountError, add_user, list_users
from ccctl.web.audit_log import audit_page, parse_filter
from ccctl.web.context import audit_source, require_role, web

admin = Blueprint("admin", __name__)
QUEUE_FORM_SETTINGS = ("max_wait_seconds", "service_level_seconds")
SEARCH_ROWS = 100


@admin.route("/admin/patients", methods=["GET", "POST"])
@require_role("admin", "supervisor")
def patients():
    found = None
    if request.method == "POST":
        search = request.form.get("search", "").strip()
        filters = PatientFilter(search=search or None, limit=SEARCH_ROWS)
        try:
            check_filter(filters)  # an oversized search is refused before it reaches SQL
        except PatientError as exc:
            flash(("error", str(exc)))
            # 400: the request itself is refused (too long, a NUL character); the page says why
            return render_template("admin_patients.html", found=None, search_max=SEARCH_MAX_CHARS), 400
        with web().transaction() as db:
            found = [patient_record(p) for p in list_patients(db, filters)]
            record_audit(db, g.user.name, "search", None, audit_source(), detail=listing_detail(filters, found))
    return render_template("admin_patients.html", found=found, search_max=SEARCH_MAX_CHARS)


def _patient_or_404(db, patient_id: int) -> Patient:
    patient = db.get(Patient, patient_id)
    if patient is None:
        abort(404)
    return patient


def _changes_from_form(sensitive: set[str]) -> dict:
    """What the form asks to change: only the inputs it sent, custom fields merged into the stored ones.

    The page never shows a sensitive field's value, so its empty input means "keep it"; a new value
    replaces it and its "clear" box removes it. An emptied ordinary field is removed.
    """
    form = request.form
    changes = {k: form[k].strip() for k in ("given_name", "family_name", "specialty") if k in form}
    fields: dict[str, str | None] = {}
    for key, value in form.items():
        name = key.removeprefix("field_")
        if key.startswith("field_") and not (name in sensitive and not value.strip()):
            fields[name] = value.strip()
    for key in form:
        if key.startswith("clear_"):
            fields[key.removeprefix("clear_")] = None
    if fields:
        changes["custom_fields"] = fields
    return changes


def _sensitive_fields(specialties: dict, specialty: str) -> set[str]:
    spec = specialties.get(specialty)
    return {name for name, field in spec.fields.items() if field.sensitive} if spec else set()


@admin.post("/patients/<int:patient_id>/edit")
@require_role("admin")
def edit_patient(patient_id: int):
    specialties = specialties_from(None)
    try:
        with web().transaction() as db:
            patient = _patient_or_404(db, patient_id)
            changes = _changes_from_form(_sensitive_fields(specialties, patient.specialty))
            changed = update_patient(db, patient.patient_code, changes, specialties)
            record_audit(db, g.user.name, "edit", patient_id, audit_source(), detail=describe_changes(changed))
        flash(("ok", "saved"))
    except PatientError as exc:  # names the field, never the value
        flash(("error", str(exc)))
    return redirect(url_for("patients.patient_page", patient_id=patient_id))


@admin.post("/patients/<int:patient_id>/pin")
@require_role("admin")
def set_pin(patient_id: int):
    try:
        pin_hash = PinHasher().hash(request.form.get("pin", ""))
        # a PIN the flows' keypad prompts cannot take would lock the member out of every call
        flow_accepts(web().settings.flows_dir).check_pin(request.form.get("pin", ""))
    except (PinFormatError, FlowsRefuse) as exc:
        flash(("error", str(exc)))
        return redirect(url_for("patients.patient_page", patient_id=patient_id))
    with web().transaction() as db:
        patient = _patient_or_404(db, patient_id)
        if not patient.is_member:
            flash(("error", "only members have a PIN"))
        else:
            store_pin_hash(patient, pin_hash, utc_now())
            record_audit(db, g.user.name, "set_pin", patient_id, audit_source())
            flash(("ok", "saved"))
    return redirect(url_for("patients.patient_page", patient_id=patient_id))


@admin.post("/patients/<int:patient_id>/unlock")
@require_role("admin")
def unlock(patient_id: int):
    with web().transaction() as db:
        unlock_patient(_patient_or_404(db, patient_id), utc_now())
        record_audit(db, g.user.name, "unlock", patient_id, audit_source())
    flash(("ok", "saved"))
    return redirect(url_for("patients.patient_page", patient_id=patient_id))


@admin.get("/admin/flows")
@require_role("admin", "supervisor")
def flows():
    ctx = web()
    status = ctx.controller.status()
    return render_template("admin_flows.html", hotlines=ctx.settings.hotlines, flows=status.get("flows", {}))


@admin.post("/admin/flows/reload")
@require_role("admin")
def reload_flows():
    errors = web().controller.reload_flows()
    flash(("error", "; ".join(errors[:5])) if errors else ("ok", "reloaded"))
    return redirect(url_for("admin.flows"))


@admin.route("/admin/users", methods=["GET", "POST"])
@require_role("admin")
def users():
    ctx = web()
    if request.method == "POST":
        form = request.form
        try:
            with ctx.transaction() as db:
                add_user(
                    db, form.get("name", ""), form.get("role", ""), form.get("password", ""),
                    agent=form.get("agent", "").strip(), language=form.get("language", "en"),
                )  # fmt: skip
            flash(("ok", "saved"))
        except AccountError as exc:
            flash(("error", str(exc)))
        return redirect(url_for("admin.users"))
    with ctx.transaction() as db:
        rows = list_users(db)
    return render_template("admin_users.html", users=rows, roles=ROLES, languages=LANGUAGES)


@admin.route("/admin/audit", methods=["GET", "POST"])
@require_role("admin")
def audit():
    """Filtered pages of the audit log; filters are POSTed (a patient code never lands in a URL)."""
    wanted = parse_filter(request.form)
    with web().transaction() as db:
        found = audit_page(db, wanted)
    return render_template("admin_audit.html", found=found, wanted=wanted)


@admin.route("/admin/agents", methods=["GET", "POST"])
@require_role("admin", "supervisor")
def agents():
    """Agents with their skills and state, queues with their rules; admins add agents."""
    from ccctl.acd.store import load_queues

    ctx = web()
    url = ctx.settings.database.url
    if request.method == "POST":
        if g.user.role != "admin":
            abort(403)
        form = request.form
        try:
            skills = parse_skills(form.get("skills", ""))
            check_extension(form.get("extension", "").strip(), ctx.settings.freeswitch.agent_extensions)
            add_agent(url, form.get("name", "").strip(), form.get("extension", "").strip(), skills)
            flash(("ok", "saved"))
        except AgentError as exc:
            flash(("error", str(exc)))
        return redirect(url_for("admin.agents"))
    with ctx.transaction() as db:
        queues = sorted(load_queues(db).values(), key=lambda q: q.name)
    return render_template(
        "admin_agents.html", agents=list_agents(url), queues=queues, strategies=STRATEGIES, disabled=DISABLED
    )


@admin.post("/admin/agents/<name>/edit")
@require_role("admin")
def edit_agent_form(name: str):
    """An agent's extension and skills (the row's form); audited."""
    ctx = web()
    form = request.form
    try:
        extension = form.get("extension", "").strip()
        skills = parse_skills(form.get("skills", ""))
        check_extension(extension, ctx.settings.freeswitch.agent_extensions)
        changed = edit_agent(ctx.settings.database.url, name, g.user.name, audit_source(), extension=extension,
                             skills=skills)  # fmt: skip
        flash(("ok", f"{name}: {', '.join(changed)}" if changed else "saved"))
    except AgentError as exc:
        flash(("error", str(exc)))
    return redirect(url_for("admin.agents"))


@admin.post("/admin/agents/<name>/<action>")
@require_role("admin")
def retire_agent(name: str, action: str):
    """disable, enable or remove one agent; audited."""
    work = {"disable": disable_agent, "enable": enable_agent, "remove": remove_agent}.get(action)
    if work is None:
        abort(404)
    try:
        work(web().settings.database.url, name, g.user.name, audit_source())
        flash(("ok", f"{name}: {action}d"))
    except AgentError as exc:
        flash(("error", str(exc)))
    return redirect(url_for("admin.agents"))


@admin.post("/admin/queues/<name>/edit")
@require_role("admin")
def edit_queue_form(name: str):
    """A queue's strategy, skills, maximum wait and service-level target; the other settings stay."""
    form = request.form
    try:
        settings = {key: form[key].strip() for key in QUEUE_FORM_SETTINGS if form.get(key, "").strip()}
        changed = edit_queue(web().settings.database.url, name, g.user.name, audit_source(),
                             strategy=form.get("strategy") or None, skills=parse_skills(form.get("skills", "")),
                             settings=settings)  # fmt: skip
        flash(("ok", f"{name}: {', '.join(changed)}" if changed else "saved"))
    except (AgentError, QueueRulesError) as exc:
        flash(("error", str(exc)))
    return redirect(url_for("admin.agents"))


@admin.post("/admin/queues/<name>/remove")
@require_role("admin")
def remove_queue_form(name: str):
    try:
        remove_queue(web().settings.database.url, name, g.user.name, audit_source())
        flash(("ok", f"{name}: removed"))
    except AgentError as exc:
        flash(("error", str(exc)))
    return redirect(url_for("admin.agents"))
