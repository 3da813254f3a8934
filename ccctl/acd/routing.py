"""One routing decision over all waiting callers and all free agents at once (no per-caller queries).

Contacts (calls, chats, tasks) go by priority, then arrival; each takes the first qualified agent with room
on its channel that its queue's strategy ranks. A call takes the agent's phone (they leave the pool); a chat
or a task takes one of their places on that channel, and they stay for the next contact while room is left.
"""

from __future__ import annotations

import random

from ccctl.acd.model import VOICE, AgentCandidate, Assignment, Capacities, WaitingCaller
from ccctl.acd.queue_rules import QueueRules
from ccctl.acd.strategies import rank_agents


def caller_order(callers: list[WaitingCaller], queues: dict[str, QueueRules] | None = None) -> list[WaitingCaller]:
    """The queue's priority first (an agent of two queues serves the higher one's callers first, like
    app_queue's weight), then the caller's (members or urgent callers pass ordinary ones), then arrival."""

    def weight(caller: WaitingCaller) -> int:
        rules = queues.get(caller.queue) if queues else None
        return rules.priority if rules is not None else 0

    return sorted(callers, key=lambda c: (-weight(c), -c.priority, c.entered_at, c.entry_id))


def qualifies(agent: AgentCandidate, skills: dict[str, int], min_level: int) -> bool:
    """Has every required skill at the queue's level (or at the overflow level, when lower)."""
    for skill, level in skills.items():
        needed = min(level, min_level) if min_level > 0 else level
        if agent.level(skill) < max(needed, 1):
            return False
    return True


def queues_served(agents: list[AgentCandidate], queues: dict[str, QueueRules]) -> list[str]:
    """Queues at least one of these agents may serve (every required skill, at any level: overflow can lower
    the level to 1). Only their callers need reading: the rest could not be offered anyone now."""
    names = set()
    for agent in agents:
        names.update(agent.skills)
    return sorted(name for name, rules in queues.items() if all(skill in names for skill in rules.skills))


def plan_assignments(
    callers: list[WaitingCaller],
    agents: list[AgentCandidate],
    queues: dict[str, QueueRules],
    rng: random.Random | None = None,
    capacities: Capacities | None = None,
) -> list[Assignment]:
    """Who gets whom now: a call takes its agents' phones (each at most once), a chat or a task one place on
    its channel. Callers of unknown queues are skipped. The agents' open chats and tasks are counted here
    as the plan takes them (the candidates are not changed)."""
    rng = rng or random.Random()
    capacities = capacities or Capacities()
    free = {a.agent_id: a for a in agents}
    taken: dict[int, dict[str, int]] = {}  # agent id -> contacts of each channel this plan gave them
    plan: list[Assignment] = []
    for caller in caller_order(callers, queues):
        if not free:
            break
        rules = queues.get(caller.queue)
        if rules is None:
            continue
        channel = caller.channel
        eligible = [
            a
            for a in free.values()
            if qualifies(a, rules.skills, caller.min_level) and a.takes(channel, capacities, taken.get(a.agent_id))
        ]
        if not eligible:
            continue
        ranked = rank_agents(rules.strategy, eligible, rules.skills, rng)
        chosen = ranked if rules.strategy == "ring-all" and channel == VOICE else ranked[:1]
        for agent in chosen:
            if channel == VOICE:
                del free[agent.agent_id]
            else:
                counts = taken.setdefault(agent.agent_id, {})
                counts[channel] = counts.get(channel, 0) + 1
        plan.append(Assignment(caller.entry_id, caller.queue, chosen))
    return plan
