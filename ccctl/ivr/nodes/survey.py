"""The survey node: ask a satisfaction survey (ivr_flows/surveys/<name>.yaml) and go on.

The questions, their languages and the rules are the survey file's; the node only names it. The
outcome (completed, partial, unavailable) is left in the variable `survey_result` for a branch.
"""

from __future__ import annotations

import re

from ccctl.ivr.nodes.base import CheckEnv, Field, Node, Report, Steps
from ccctl.ivr.run_context import RunContext

SURVEY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SURVEYS_DIR = "surveys"  # under the flows folder: <name>.yaml per survey
RESULT_VARIABLE = "survey_result"
# set by a campaign's call: the response is counted for that campaign
CAMPAIGN_VARIABLE = "campaign_name"


class SurveyNode(Node):
    """Run survey `survey` on this call; its answers are stored for the caller's patient record."""

    type_name = "survey"
    waits_for_input = True
    fields = {
        "survey": Field("text", required=True),
        "next": Field("node", ends_when_absent=True),
    }

    def check_syntax(self, report: Report) -> None:
        super().check_syntax(report)
        name = str(self.values.get("survey", "x"))
        if not SURVEY_NAME.match(name):
            report(self.line_of("survey"), f"'survey' must name a file in surveys/ (a-z, 0-9, - and _), got {name!r}")

    def check_references(self, env: CheckEnv, report: Report) -> None:
        super().check_references(env, report)
        name = str(self.values.get("survey", ""))
        if env.survey_names is not None and SURVEY_NAME.match(name) and name not in env.survey_names:
            report(self.line_of("survey"), f"survey '{name}': no {SURVEYS_DIR}/{name}.yaml in the flows folder")

    def describe(self) -> str:
        return f"survey {self.get('survey')}"

    def run(self, ctx: RunContext) -> Steps:
        name = str(self.get("survey"))
        surveys = ctx.services.surveys
        if surveys is None or not surveys.has_survey(name):
            ctx.visit(f"{self.name}:unavailable")
            ctx.variables[RESULT_VARIABLE] = "unavailable"
            return self.get("next")
        patient_id = ctx.patient.id if ctx.patient is not None else None
        # a language the caller chose on this call wins; otherwise the patient's own (their record's)
        chosen = ctx.call.variables.get("cc_language") or ctx.language != ctx.flow.language
        outcome = yield from surveys.run_survey(
            name,
            ctx.call.uuid,
            ctx.call.caller_number,
            patient_id,
            ctx.language if chosen else "",
            campaign=str(ctx.variables.get(CAMPAIGN_VARIABLE, "")),
        )
        ctx.visit(f"{self.name}:{outcome}")
        ctx.variables[RESULT_VARIABLE] = outcome
        return self.get("next")
