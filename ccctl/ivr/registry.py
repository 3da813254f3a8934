"""FlowRegistry: the process's one set of loaded flows, reloaded atomically, and the app factory.

`reload()` builds a complete new catalog and swaps it in only if every flow checks;
a call keeps the Flow it started with. The controller takes `registry.app_factory`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ccctl.callflow import CallInfo
from ccctl.errors import UserError
from ccctl.ivr.catalog import flow_files, load_catalog
from ccctl.ivr.errors import FlowCheckFailed, FlowError
from ccctl.ivr.flow import Flow, FlowCatalog
from ccctl.ivr.interpreter import FlowRun
from ccctl.ivr.nodes.base import KnownQueues
from ccctl.ivr.services import CallServices, KbAnswers

log = logging.getLogger(__name__)


class UnknownHotline(UserError, LookupError):
    """No flow for this hotline; the controller fails the call."""


class FlowRegistry:
    """Loads and checks all flows of flows_dir; get(hotline) -> Flow; reload(); app_factory(call)."""

    def __init__(
        self,
        flows_dir: str | Path,
        prompts_dir: str | Path | None = None,
        *,
        services: CallServices | None = None,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
        recordings_dir: str | Path = "recordings",
        hotline_flows: Mapping[str, str] | None = None,
        kb: KbAnswers | None = None,
    ) -> None:
        self.flows_dir = Path(flows_dir)
        self.prompts_dir = Path(prompts_dir) if prompts_dir else self.flows_dir / "prompts"
        self.services = services
        self.clock = clock
        self.recordings_dir = Path(recordings_dir)
        self.hotline_flows = dict(hotline_flows or {})  # hotline name -> flow name, when they differ
        self.kb = kb  # what kb nodes speak from (ccctl.kb.knowledge.KnowledgeBase)
        self._generation = 0
        self._catalog: FlowCatalog | None = None
        errors = self._load()
        if errors:
            raise FlowCheckFailed(errors)  # nothing was running: the caller reports the errors, not a refusal

    @property
    def catalog(self) -> FlowCatalog:
        assert self._catalog is not None
        return self._catalog

    def reload(self) -> list[FlowError]:
        """Check every flow again; swap them in only if all pass. Returns the errors (empty: swapped)."""
        errors = self._load()
        if errors:
            log.warning("flow reload refused: %s, keeping generation %d", count_errors(len(errors)), self._generation)
        return errors

    def _load(self) -> list[FlowError]:
        if not self.flows_dir.is_dir():
            return [FlowError(str(self.flows_dir), None, None, "flows directory not found (check flows_dir)")]
        loaded = load_catalog(self.flows_dir, self.prompts_dir, generation=self._generation + 1, kb=self.kb)
        if loaded.catalog is not None:
            missing = self._hotlines_without_flow(loaded.catalog)
            if missing:
                loaded = dataclasses.replace(loaded, catalog=None, errors=missing)
        if loaded.catalog is None:
            return loaded.errors
        self._generation += 1
        self._catalog = loaded.catalog  # one assignment: a call sees the old or the new catalog, never a mix
        log.info("flows generation %d loaded: %s", self._generation, ", ".join(self._catalog.hotlines()))
        return []

    def _hotlines_without_flow(self, catalog: FlowCatalog) -> list[FlowError]:
        """A configured hotline whose flow is absent (or only a subflow) would fail every call: refuse."""
        errors = []
        for hotline, name in sorted(self.hotline_flows.items()):
            flow = catalog.flows.get(name)
            if flow is None or flow.is_subflow:
                where = str(self.flows_dir / f"{name}.yaml")
                errors.append(FlowError(where, None, None, f"hotline '{hotline}' needs this flow, which is missing"))
        return errors

    def get(self, hotline: str) -> Flow:
        name = self.hotline_flows.get(hotline, hotline)
        flow = self.catalog.flows.get(name)
        if flow is None or flow.is_subflow:
            raise UnknownHotline(f"no flow for hotline '{hotline}' in {self.flows_dir}")
        return flow

    def app_factory(self, call: CallInfo) -> FlowRun:
        """A FlowRun for the call's hotline (ivr_flows/<hotline>.yaml), on the current flows."""
        if self.services is None:
            raise RuntimeError("FlowRegistry needs services to run calls")
        return FlowRun(self.get(call.hotline), self.services, self.clock, recordings_dir=self.recordings_dir)


@dataclass
class CheckReport:
    """What `ccctl flow check` prints: errors, and how many flows were checked."""

    errors: list[FlowError]
    flow_count: int


def check_flows(
    flows_dir: str | Path,
    prompts_dir: str | Path | None = None,
    targets: tuple[str, ...] | list[str] = (),
    kb: KbAnswers | None = None,
    queues: KnownQueues | None = None,
) -> CheckReport:
    """Check flows_dir, or only the named files / hotlines (in the context of flows_dir)."""
    flows_dir = Path(flows_dir)
    if not flows_dir.is_dir():
        return CheckReport([FlowError(str(flows_dir), None, None, "flows directory not found (check flows_dir)")], 0)
    prompts = Path(prompts_dir) if prompts_dir else flows_dir / "prompts"
    extra = [_target_path(flows_dir, target) for target in targets]
    loaded = load_catalog(flows_dir, prompts, extra_files=extra, kb=kb, queues=queues)
    if not targets:
        if not loaded.flow_names and not loaded.errors:  # "0 flows OK" would pass a wrong directory
            return CheckReport([FlowError(str(flows_dir), None, None, "no flows here (*.yaml files)")], 0)
        return CheckReport(loaded.errors, len(loaded.flow_names))
    wanted = {str(path) for path in extra}
    flow_sources = wanted | {str(p) for p in flow_files(flows_dir)}
    errors = [e for e in loaded.errors if e.file in wanted or e.file not in flow_sources]
    return CheckReport(errors, len(extra))


def count_errors(count: int) -> str:
    """'1 error', '3 errors'."""
    return f"{count} {'error' if count == 1 else 'errors'}"


def _target_path(flows_dir: Path, target: str) -> Path:
    path = Path(target)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    return flows_dir / f"{target}.yaml"
