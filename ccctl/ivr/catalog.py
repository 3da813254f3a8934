"""Loading a whole flows dir: prompt sets, calendars, every flow, all checks, one FlowCatalog.

The catalog is built only when everything checks; otherwise the errors come back
and nothing is built (the registry keeps its old catalog).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from ccctl.ivr.checker import check_graph, check_references
from ccctl.ivr.errors import FlowError
from ccctl.ivr.flow import SHARED_DIR, Flow, FlowCatalog
from ccctl.ivr.holidays import HolidayCalendar, load_calendar
from ccctl.ivr.loader import FlowFile, flow_name, read_flow_file
from ccctl.ivr.nodes.base import CheckEnv, KnownQueues
from ccctl.ivr.nodes.survey import SURVEYS_DIR
from ccctl.ivr.prompts import PromptSet, load_prompt_sets
from ccctl.ivr.services import KbAnswers


@dataclass
class CatalogLoad:
    """What one load found: the catalog (None on any error), the errors, the flows read."""

    catalog: FlowCatalog | None
    errors: list[FlowError]
    flow_names: list[str]


def flow_files(flows_dir: Path) -> list[Path]:
    """Hotline flows at the top of flows_dir, shared sub-flows under shared/."""
    found = sorted(flows_dir.glob("*.yaml"))
    shared = flows_dir / SHARED_DIR
    if shared.is_dir():
        found += sorted(shared.rglob("*.yaml"))
    return found


def load_catalog(
    flows_dir: Path,
    prompts_dir: Path,
    generation: int = 0,
    extra_files: list[Path] | tuple[Path, ...] = (),
    kb: KbAnswers | None = None,
    queues: KnownQueues | None = None,
) -> CatalogLoad:
    """Read and check every flow (extra_files replace or add flows of the same name); kb: for kb nodes;
    queues: the ACD queues queue nodes may name (None: not checked)."""
    sets, errors = load_prompt_sets(flows_dir, prompts_dir)
    files: dict[str, FlowFile] = {}
    for path in [*flow_files(flows_dir), *extra_files]:
        name = flow_name(path, flows_dir)
        files[name] = read_flow_file(path, name)
    calendars: dict[str, HolidayCalendar | None] = {}
    for flow in files.values():
        check_graph(flow)
        calendar = _calendar_of(flow, flows_dir, calendars, errors)
        env = CheckEnv(
            prompts_dir=prompts_dir,
            prompt_sets=sets,
            languages=_languages(flow, sets),
            flow_names=frozenset(files),
            has_calendar=calendar is not None,
            kb=kb,
            queues=queues,
            survey_names=frozenset(path.stem for path in (flows_dir / SURVEYS_DIR).glob("*.yaml")),
        )
        check_references(flow, env)
        errors.extend(flow.errors)
    if errors:
        errors.sort(key=lambda e: (e.file, e.line or 0))
        return CatalogLoad(None, errors, list(files))
    catalog = _build(files, sets, prompts_dir, generation, calendars, kb)
    return CatalogLoad(catalog, [], list(files))


def _languages(flow: FlowFile, sets: dict[str, PromptSet]) -> list[str]:
    declared = flow.top("languages")
    if isinstance(declared, list) and declared:
        wanted = [str(x) for x in declared]
    else:
        wanted = sorted(sets)
    default = flow.top("language", "en")
    if isinstance(default, str) and sets and default not in sets:
        flow.error(flow.data.line_of("language"), None, f"no prompt set for the flow's language '{default}'")
    return wanted


def _calendar_of(
    flow: FlowFile, flows_dir: Path, cache: dict[str, HolidayCalendar | None], errors: list[FlowError]
) -> HolidayCalendar | None:
    relative = flow.top("holidays")
    if not isinstance(relative, str):
        return None
    if relative not in cache:
        path = flows_dir / relative
        if not path.is_file():
            flow.error(
                flow.data.line_of("holidays"), None, f"holiday calendar '{relative}' does not exist under {flows_dir}"
            )
            return None
        calendar, found = load_calendar(path, str(path))
        errors.extend(found)
        cache[relative] = calendar
    return cache[relative]


def _build(
    files: dict[str, FlowFile],
    sets: dict[str, PromptSet],
    prompts_dir: Path,
    generation: int,
    calendars: dict[str, HolidayCalendar | None],
    kb: KbAnswers | None = None,
) -> FlowCatalog:
    flows: dict[str, Flow] = {}
    catalog = FlowCatalog(
        flows=MappingProxyType(flows),
        prompt_sets=MappingProxyType(dict(sets)),
        prompts_dir=prompts_dir.resolve(),
        generation=generation,
        kb=kb,
    )
    for name, file in files.items():
        holidays = file.top("holidays")
        flows[name] = Flow(
            name=name,
            source=file.source,
            digest=file.digest,
            start=file.start,
            nodes=MappingProxyType(dict(file.nodes)),
            language=str(file.top("language", "en")),
            languages=tuple(str(x) for x in file.top("languages", []) or []),
            description=str(file.top("description", "")),
            calendar=calendars.get(holidays) if isinstance(holidays, str) else None,
            catalog=catalog,
        )
    return catalog
