"""The flows campaign calls run: ordinary flow files in <flows_dir>/campaigns/flows/, checked with the hotlines'.

They are read beside the hotline flows (prompt sets, shared sub-flows, the same checker) but are not
hotlines: no DID reaches them, only a campaign's answered call.
"""

from __future__ import annotations

from pathlib import Path

from ccctl.campaigns.spec import FLOWS_SUBDIR
from ccctl.config import Settings
from ccctl.ivr.catalog import load_catalog
from ccctl.ivr.flow import FlowCatalog


def campaign_flow_files(flows_dir: Path) -> list[Path]:
    folder = flows_dir / FLOWS_SUBDIR
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def load_campaign_flows(settings: Settings) -> tuple[FlowCatalog | None, list[str]]:
    """The catalog holding the campaign flows (as "campaigns/flows/<name>"), or None and the errors."""
    flows_dir = Path(settings.flows_dir)
    prompts = Path(settings.prompts_dir) if settings.prompts_dir else flows_dir / "prompts"
    loaded = load_catalog(flows_dir, prompts, extra_files=campaign_flow_files(flows_dir))
    return loaded.catalog, [str(error) for error in loaded.errors]


def flow_key(name: str) -> str:
    return f"{FLOWS_SUBDIR}/{name}"
