"""Routing strategies: the order in which free agents are offered a caller (mod_callcenter's names).

Pure functions over AgentCandidate lists; the router removes the chosen agents from the pool.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

from ccctl.acd.model import AgentCandidate

NEVER = datetime(1970, 1, 1, tzinfo=UTC)


Ranker = Callable[[list[AgentCandidate], dict[str, int], random.Random], list[AgentCandidate]]


def _idle_key(agent: AgentCandidate) -> tuple[datetime, int]:
    return (agent.idle_since or NEVER, agent.agent_id)


def longest_idle(agents: list[AgentCandidate], skills: dict[str, int], rng: random.Random) -> list[AgentCandidate]:
    return sorted(agents, key=_idle_key)


def round_robin(agents: list[AgentCandidate], skills: dict[str, int], rng: random.Random) -> list[AgentCandidate]:
    # the agent offered a call longest ago goes next: the turn survives restarts and several processes
    return sorted(agents, key=lambda a: (a.last_offered_at or NEVER, a.agent_id))


def top_down(agents: list[AgentCandidate], skills: dict[str, int], rng: random.Random) -> list[AgentCandidate]:
    return sorted(agents, key=lambda a: a.agent_id)


def least_talk_time(agents: list[AgentCandidate], skills: dict[str, int], rng: random.Random) -> list[AgentCandidate]:
    return sorted(agents, key=lambda a: (a.talk_seconds, *_idle_key(a)))


def fewest_calls(agents: list[AgentCandidate], skills: dict[str, int], rng: random.Random) -> list[AgentCandidate]:
    return sorted(agents, key=lambda a: (a.calls_answered, *_idle_key(a)))


def shuffled(agents: list[AgentCandidate], skills: dict[str, int], rng: random.Random) -> list[AgentCandidate]:
    ordered = sorted(agents, key=lambda a: a.agent_id)
    rng.shuffle(ordered)
    return ordered


def best_skill_match(agents: list[AgentCandidate], skills: dict[str, int], rng: random.Random) -> list[AgentCandidate]:
    def key(agent: AgentCandidate) -> tuple:
        return (-sum(agent.level(skill) for skill in skills), *_idle_key(agent))

    return sorted(agents, key=key)


RANKERS: dict[str, Ranker] = {
    "longest-idle-agent": longest_idle,
    "ring-all": longest_idle,  # every one of them rings; the order only says who is listed first
    "round-robin": round_robin,
    "top-down": top_down,
    "agent-with-least-talk-time": least_talk_time,
    "agent-with-fewest-calls": fewest_calls,
    "random": shuffled,
    "best-skill-match": best_skill_match,
}


def rank_agents(
    strategy: str, agents: list[AgentCandidate], skills: dict[str, int], rng: random.Random
) -> list[AgentCandidate]:
    """The agents in the order the strategy offers them the call."""
    return RANKERS[strategy](agents, skills, rng)
