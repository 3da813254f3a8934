"""A campaign call the patient answered: the campaign's flow runs, and what they pressed is written back.

The flow is an ordinary YAML flow; it tells the campaign what the patient chose by setting the variable
`campaign_answer` (confirm, cancel, agent, opt_out). A reminder's choice confirms or cancels the target's
appointment through ccctl.appointments.store at once, before the call ends, so a patient who hangs up
right after pressing 1 is still confirmed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ccctl.appointments import store as appointments
from ccctl.callflow import AppResult, CallInfo, Command, Execute, Finish
from ccctl.campaigns import store
from ccctl.campaigns.flows import flow_key, load_campaign_flows
from ccctl.campaigns.model import CampaignSpec
from ccctl.campaigns.spec import load_spec
from ccctl.campaigns.store import CampaignError
from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.ivr.flow import Flow
from ccctl.ivr.interpreter import FlowRun
from ccctl.ivr.nodes.survey import CAMPAIGN_VARIABLE
from ccctl.ivr.services import CallServices
from ccctl.patients.call_services import DbCallServices
from ccctl.records.database import make_engine
from ccctl.records.models.campaigns import Campaign, CampaignTarget
from ccctl.records.models.patients import Patient

log = logging.getLogger("ccctl.campaigns")

ANSWER_VARIABLE = "campaign_answer"
# set by mod_avmd on the channel when it hears a voicemail greeting's beep
MACHINE_VARIABLE = "avmd_detect"
# what the patient chose -> the outcome recorded on the attempt and the target
OUTCOMES = {"confirm": "confirmed", "cancel": "cancelled", "agent": "agent", "opt_out": "opted_out"}


class CampaignCall:
    """Implements ccctl.callflow.CallApp around a FlowRun of the campaign's flow."""

    def __init__(
        self,
        engine,
        target_id: int,
        flow: Flow,
        services: CallServices,
        clock: Callable[[], dt.datetime],
        zone: ZoneInfo,
        recordings_dir: str,
        listen_for_machine: bool = False,
    ) -> None:
        self.engine = engine
        self.listen_for_machine = listen_for_machine
        self._call: CallInfo | None = None
        self.target_id = target_id
        self.zone = zone
        self.services = services
        self.run = FlowRun(flow, services, clock, recordings_dir=recordings_dir)
        self.patient_id: int | None = None
        self._answered = ""
        self._uuid = ""

    @property
    def path(self) -> list[str]:
        return self.run.path

    def start(self, call: CallInfo) -> Command:
        self._uuid = call.uuid
        if self.listen_for_machine:
            # mod_avmd listens to the patient's side while the flow runs; its beep event reaches the dialer
            self._call = call
            return Execute("avmd_start")
        return self._start_flow(call)

    def _start_flow(self, call: CallInfo) -> Command:
        variables = self._answered_in_db(call.uuid)
        patient_code = variables.pop("patient_code", "")
        command = self.run.start(call)
        if self.run.context is not None:
            self.run.context.variables.update(variables)
            # the campaign knows whom it called: a survey node stores the answers for that patient
            if patient_code:
                self.run.context.patient = self.services.find_patient_by_code(patient_code)
        return command

    def resume(self, result: AppResult) -> Command:
        if self._call is not None:
            call, self._call = self._call, None
            return self._start_flow(call)
        command = self.run.resume(result)
        if result.variable(MACHINE_VARIABLE).upper() == "TRUE":
            self._answered = "machine"  # the dialer recorded it and told the switch what to do
        answer = self.run.context.variables.get(ANSWER_VARIABLE, "") if self.run.context else ""
        if answer and not self._answered:
            self._answered = str(answer)
            self._write_back(self._answered)
        elif isinstance(command, Finish) and not self._answered:
            self._answered = "answered"
            self._write_back("")
        return command

    def _answered_in_db(self, call_uuid: str) -> dict:
        """Mark the attempt answered; the variables the flow may speak (appointment day, time, department)."""
        with Session(self.engine) as session:
            target = store.call_answered(session, self.target_id, call_uuid)
            variables: dict = {}
            if target is not None:
                self.patient_id = target.patient_id
                patient = session.get(Patient, target.patient_id)
                campaign = session.get(Campaign, target.campaign_id)
                variables["patient_code"] = patient.patient_code if patient is not None else ""
                variables[CAMPAIGN_VARIABLE] = campaign.name if campaign is not None else ""
                if target.appointment_id is not None:
                    visit = appointments.get(session, target.appointment_id)
                    local = visit.slot.starts_at.astimezone(self.zone)
                    variables = {
                        "appointment_date": local.strftime("%Y-%m-%d"),
                        "appointment_time": local.strftime("%H:%M"),
                        "department": visit.slot.department_name,
                        "doctor": visit.slot.doctor_name,
                    }
            session.commit()
        return variables

    def _write_back(self, answer: str) -> None:
        """Apply the patient's choice and record the outcome (errors are logged: the call goes on)."""
        outcome = OUTCOMES.get(answer, "answered")
        try:
            with Session(self.engine) as session:
                target = session.get(CampaignTarget, self.target_id)
                campaign = session.get(Campaign, target.campaign_id) if target is not None else None
                if target is None or campaign is None:
                    return
                by = f"campaign:{campaign.name}"
                try:
                    if answer == "confirm" and target.appointment_id is not None:
                        appointments.confirm(session, target.appointment_id, by=by)
                    elif answer == "cancel" and target.appointment_id is not None:
                        appointments.cancel(
                            session, target.appointment_id, by=by, reason="cancelled on a reminder call"
                        )
                    elif answer == "opt_out":
                        store.opt_out(session, target.patient_id, "voice", "keypad")
                except UserError as exc:
                    log.warning("campaign %s: %s refused: %s", campaign.name, answer, exc)
                    outcome = f"{answer}_refused"[:32]
                store.call_outcome(session, self.target_id, self._uuid, outcome, dt.datetime.now(dt.UTC))
                session.commit()
        except Exception:  # a busy database must not cut the patient off
            log.exception("campaign outcome not written for target %d", self.target_id)


class CampaignCalls:
    """The call-app row for campaign calls: finds the target's campaign and flow (cached per campaign)."""

    def __init__(self, settings: Settings, queueing=None) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database.url)
        self.services = DbCallServices(self.engine, settings, handoff=settings.handoff.as_mapping())
        self.services.queueing = queueing
        self.zone = ZoneInfo(settings.campaigns.time_zone)
        self._catalog = None
        self._specs: dict[int, CampaignSpec] = {}

    def app_for(self, call: CallInfo, target_id: int) -> CampaignCall:
        if self._catalog is None:
            catalog, errors = load_campaign_flows(self.settings)
            if catalog is None:
                raise CampaignError(f"campaign flows do not check: {errors[0]}")
            self._catalog = catalog
        with Session(self.engine) as session:
            target = session.get(CampaignTarget, target_id)
            campaign = session.get(Campaign, target.campaign_id) if target is not None else None
            if campaign is None:
                raise CampaignError(f"campaign call for an unknown target {target_id}")
            spec = self._specs.get(campaign.id) or load_spec(campaign.source_path, campaign.source_text)
        self._specs[campaign.id] = spec
        flow = self._catalog.flows.get(flow_key(spec.flow))
        if flow is None:
            raise CampaignError(f"campaign '{spec.name}': no flow {flow_key(spec.flow)}.yaml")
        zone = ZoneInfo(spec.time_zone) if spec.time_zone else self.zone
        return CampaignCall(
            self.engine,
            target_id,
            flow,
            self.services,
            dt.datetime.now,
            zone,
            str(self.settings.recordings_dir),
            listen_for_machine=bool(spec.machine),
        )
