"""What a supervisor reads of the ACD on a SwitchSite: queue events, `ccctl agents status`, the ended call."""

from __future__ import annotations

import json
import sqlite3

from switch_site import SwitchSite


def queue_events(site: SwitchSite) -> list[tuple[str, str, str]]:
    """(kind, agent name, detail) of every queue event, oldest first (the site's SQLite database)."""
    with sqlite3.connect(site.root / "cc.db") as db:
        rows = db.execute(
            "SELECT e.kind, COALESCE(a.name, ''), e.detail FROM queue_events e"
            " LEFT JOIN agents a ON a.id = e.agent_id ORDER BY e.id"
        ).fetchall()
    return [tuple(row) for row in rows]


def kinds(site: SwitchSite) -> list[tuple[str, str]]:
    """(kind, agent name) of the calls' queue events, without the agents' status changes."""
    return [(kind, agent) for kind, agent, _ in queue_events(site) if not kind.startswith("agent_")]


def agent_status(site: SwitchSite) -> dict[str, tuple[str, str]]:
    """name -> (status, state), as `ccctl agents status --json` prints them."""
    rows = json.loads(site.ccctl("agents", "status", "--json").stdout)
    return {row["name"]: (row["status"], row["state"]) for row in rows}


def ended_call(site: SwitchSite, timeout: float = 30.0) -> dict:
    """The one call record, once it has its end."""

    def ended():
        calls = site.calls()
        return calls[0] if len(calls) == 1 and calls[0]["ended_at"] else None

    return site.wait_for(ended, timeout, "the call's end in the records")
