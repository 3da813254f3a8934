"""The Flask blueprints make_web_app registers: the console's own, then those of other features.

Another feature adds its web endpoints as a Blueprint in its own module and appends one line
"module:attribute" to OTHER_FEATURES below (imported lazily, so the list costs nothing at start).
"""

from __future__ import annotations

import importlib

from flask import Blueprint

from ccctl.web.admin_views import admin
from ccctl.web.auth_views import auth
from ccctl.web.call_controls import call_controls
from ccctl.web.patient_views import patients
from ccctl.web.reports_views import reports
from ccctl.web.wallboard import wallboard
from ccctl.web.workstation import workstation

OTHER_FEATURES: list[str] = [
    "ccctl.channels.sms_web:blueprint",
    "ccctl.channels.web_form:blueprint",
    "ccctl.patients.fhir.web:blueprint",
    "ccctl.appointments.web:blueprint",
    "ccctl.chat.web:blueprint",
    "ccctl.chat.agent_web:blueprint",
    "ccctl.tickets.inbox_web:blueprint",
    "ccctl.tickets.web:blueprint",
    "ccctl.web.agent_desk:blueprint",
    "ccctl.kb.web:blueprint",
    "ccctl.campaigns.web:blueprint",
    "ccctl.campaigns.preview_web:blueprint",
    "ccctl.surveys.web:blueprint",
]


def all_blueprints() -> list[Blueprint]:
    blueprints = [auth, wallboard, patients, admin, workstation, call_controls, reports]
    for entry in OTHER_FEATURES:
        module_name, _, attribute = entry.partition(":")
        blueprints.append(getattr(importlib.import_module(module_name), attribute))
    return blueprints
