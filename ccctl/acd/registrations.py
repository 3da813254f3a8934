"""Agents' phones as FreeSWITCH registers them: sofia::register gives the contact, unregister clears it.

The contact is kept as a dial string (sofia/<profile>/sip:<user>@<host>:<port>) in agents.contact.
"""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.orm import Session

from ccctl.records.models.acd import Agent

_SIP_URI = re.compile(r"<?(sips?:[^>;\s]+)")


def contact_dial_string(profile: str, contact: str) -> str:
    """`"1001" <sip:1001@10.0.0.5:5060;ob>` on profile internal -> sofia/internal/sip:1001@10.0.0.5:5060."""
    match = _SIP_URI.search(contact or "")
    if not match or not profile or "/" in profile:
        return ""
    return f"sofia/{profile}/{match.group(1)}"


def learn_contact(session: Session, user: str, dial_string: str) -> int:
    """Store (or, with "", forget) the phone of the agent whose extension is `user`; rows changed."""
    return session.execute(update(Agent).where(Agent.extension == user).values(contact=dial_string)).rowcount
