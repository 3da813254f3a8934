"""One patient's record for every role: admins and supervisors any patient, agents only those of their calls.

Every view writes an audit row (who, when, which patient, from where); ids in paths are opaque row numbers.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, g, jsonify, render_template

from ccctl.patients.commands import specialties_from
from ccctl.records.audit import record_audit
from ccctl.web.context import audit_source, require_role, web
from ccctl.web.patient_record import patient_detail

log = logging.getLogger("ccctl.web")
patients = Blueprint("patients", __name__)


def open_patient(patient_id: int) -> dict:
    """The patient's detail for the logged-in user, audited; 403 for an agent without a recent call, 404 if none."""
    ctx = web()
    specialties = specialties_from(None)
    with ctx.transaction() as db:
        if g.user.role == "agent" and not ctx.screen_pops.may_open_patient(db, g.user.agent, patient_id):
            # the refusal is audited too: it shows who tried to look beyond their calls
            record_audit(db, g.user.name, "view_refused", patient_id, audit_source())
            log.warning("agent %s refused patient id %d (not on their recent calls)", g.user.name, patient_id)
        else:
            detail = patient_detail(db, patient_id, specialties)
            if detail is None:
                abort(404)
            record_audit(db, g.user.name, "view", patient_id, audit_source(), detail=f"web {g.user.role}")
            return detail
    abort(403)


@patients.get("/api/v1/patients/<int:patient_id>")
@require_role("admin", "supervisor", "agent")
def patient_json(patient_id: int):
    return jsonify(open_patient(patient_id))


@patients.get("/patients/<int:patient_id>")
@require_role("admin", "supervisor", "agent")
def patient_page(patient_id: int):
    detail = open_patient(patient_id)
    specialties = specialties_from(None)
    spec = specialties.get(detail["specialty"])
    return render_template("patient.html", p=detail, fields=spec.fields if spec else {})
