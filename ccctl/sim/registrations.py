"""SIP registrations of simulated phones: mod_sofia's CUSTOM sofia::register / sofia::unregister events.

Headers follow sofia_reg.c (profile-name, from-user, from-host, contact, expires, network-ip, network-port).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ccctl.sim.event_builder import SimEvent, base_headers

if TYPE_CHECKING:
    from ccctl.sim.switch import Switch


def fire_registration(
    switch: Switch, user: str, ip: str, port: int = 5060, profile: str = "internal", expires: int = 3600
) -> None:
    """A phone registered (expires > 0) or unregistered (expires 0) as `user` from ip:port."""
    subclass = "sofia::register" if expires > 0 else "sofia::unregister"
    if not switch.bus.wants("CUSTOM", ""):
        return
    headers = base_headers(
        switch.core, "CUSTOM", switch.clock.now_us(), ("sofia_reg.c", "sofia_reg_handle_register_token", 0)
    )
    headers.insert(1, ("Event-Subclass", subclass))
    headers += [
        ("profile-name", profile),
        ("from-user", user),
        ("from-host", switch.domain),
        ("contact", f'"{user}" <sip:{user}@{ip}:{port}>'),
        ("expires", str(expires)),
        ("network-ip", ip),
        ("network-port", str(port)),
        ("username", user),
    ]
    switch.bus.fire(SimEvent("CUSTOM", headers, "", subclass))
