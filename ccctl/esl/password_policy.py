"""Which ESL passwords a ccctl that drives a real switch refuses: FreeSWITCH's shipped `ClueCon`, and none.

Anyone who reaches the event socket with its password controls the switch (originate, eavesdrop, hang
up). `ccctl serve`, the commands that open the socket and `ccctl fs render` refuse them; the demo and
the emulator-backed LocalSite, which never reach a real switch, do not ask.
"""

from __future__ import annotations

from ccctl.config import Settings
from ccctl.errors import UserError

SHIPPED_PASSWORD = "ClueCon"


class ShippedEslPassword(UserError):
    """esl.password is FreeSWITCH's shipped default or empty; str() names the setting and where to set it."""


def esl_password_refusal(settings: Settings) -> str | None:
    """Why esl.password will not do for a real switch, in one line naming the setting; None when it will."""
    password = settings.esl.password
    if password and password != SHIPPED_PASSWORD:
        return None
    what = f"FreeSWITCH's shipped default '{SHIPPED_PASSWORD}'" if password else "empty"
    return (
        f"{settings.source}: esl.password is {what}: anyone who reaches the event socket could control the "
        f"switch; set esl.password (or CCCTL_ESL__PASSWORD) to a secret of your own, then `ccctl fs render` "
        f"writes it for FreeSWITCH"
    )


def check_esl_password(settings: Settings) -> None:
    """Raise ShippedEslPassword unless esl.password is a password of the site's own."""
    refusal = esl_password_refusal(settings)
    if refusal:
        raise ShippedEslPassword(refusal)
