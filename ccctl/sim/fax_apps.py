"""The emulator's fax machines: mod_spandsp's rxfax and txfax with its channel variables and
its spandsp::rxfaxresult / spandsp::txfaxresult events (names and headers as in mod_spandsp_fax.c).

The far end is simulated: offer_fax(switch, caller, tiff) makes a caller's fax machine send that
file; set_fax_receiver(switch, number, ...) decides how a called fax machine takes ours.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ccctl.channels.fax_files import tiff_page_count
from ccctl.sim.event_builder import SimEvent, base_headers

if TYPE_CHECKING:
    from ccctl.sim.session import Session
    from ccctl.sim.switch import Switch

# spandsp's t30 completion codes the emulator produces, with t30_completion_code_to_str's text
T30_OK = (0, "OK")
T30_T0_EXPIRED = (2, "Timed out waiting for initial communication")
T30_FILE_ERROR = (41, "TIFF/F file cannot be opened")
T30_CALL_DROPPED = (49, "The call dropped prematurely")
SECONDS_PER_PAGE = 6.0  # 9600 bit/s, a typical A4 page
REMOTE_STATION = "+00 000 000 0000"


@dataclass
class FaxReceiver:
    """A called fax machine: takes `pages` pages (None: all) then ends with `result`."""

    pages: int | None = None
    result: tuple[int, str] = T30_OK
    station_id: str = REMOTE_STATION


def offer_fax(switch: Switch, caller: str, tiff: str | Path, station_id: str = REMOTE_STATION) -> None:
    """The next call from `caller` is a fax machine sending this TIFF."""
    _documents(switch)[caller] = (Path(tiff), station_id)


def set_fax_receiver(switch: Switch, number: str, receiver: FaxReceiver) -> None:
    _receivers(switch)[number] = receiver


def _documents(switch: Switch) -> dict:
    return switch.__dict__.setdefault("fax_documents", {})


def _receivers(switch: Switch) -> dict:
    return switch.__dict__.setdefault("fax_receivers", {})


def rxfax(session: Session, data: str) -> None:
    """rxfax <file>: receive what the caller's fax machine sends into the file."""
    ch = session.channel
    target = Path(data.strip())
    offered = _documents(ch.switch).pop(ch.caller_number, None)
    if offered is None:
        ch.media_wait(SECONDS_PER_PAGE)
        _finish(session, "spandsp::rxfaxresult", T30_T0_EXPIRED, 0, 0, "")
        return
    source, station = offered
    content = source.read_bytes()
    pages = max(tiff_page_count(content), 1)
    ch.media_wait(SECONDS_PER_PAGE * pages)
    if not ch.up:
        _finish(session, "spandsp::rxfaxresult", T30_CALL_DROPPED, 0, 0, station)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    _finish(session, "spandsp::rxfaxresult", T30_OK, pages, pages, station)


def txfax(session: Session, data: str) -> None:
    """txfax <file>: send the TIFF to the called fax machine."""
    ch = session.channel
    try:
        total = tiff_page_count(Path(data.strip()).read_bytes())
    except OSError:
        total = 0
    if total == 0:
        _finish(session, "spandsp::txfaxresult", T30_FILE_ERROR, 0, 0, "")
        return
    receiver = _receivers(ch.switch).get(ch.destination, FaxReceiver())
    sent = total if receiver.pages is None else min(receiver.pages, total)
    ch.media_wait(SECONDS_PER_PAGE * max(sent, 1))
    result = receiver.result if ch.up else T30_CALL_DROPPED
    _finish(session, "spandsp::txfaxresult", result, sent, total, receiver.station_id)


def _finish(session: Session, subclass: str, result: tuple[int, str], pages: int, total: int, remote: str) -> None:
    """phase_e_handler: the fax_* channel variables, then the result event carrying the same values."""
    ch = session.channel
    code, text = result
    local = ch.get_var("fax_ident") or ""
    values = {
        "success": "1" if code == 0 else "0",
        "result-code": str(code),
        "result-text": text,
        "document-transferred-pages": str(pages),
        "document-total-pages": str(total),
        "image-resolution": "204x196" if pages else "0x0",
        "image-size": str(pages * 30000),
        "bad-rows": "0",
        "transfer-rate": "9600" if pages else "0",
        "ecm-used": "on" if pages else "off",
        "local-station-id": local,
        "remote-station-id": remote,
    }
    for name, value in values.items():
        ch.set_var("fax_" + name.replace("-", "_"), value)
    _fire_custom(session, subclass, [("fax-" + name, value) for name, value in values.items()])


def _fire_custom(session: Session, subclass: str, extra: list[tuple[str, str]]) -> None:
    ch = session.channel
    switch = ch.switch
    if not switch.bus.wants("CUSTOM", ch.uuid):
        return
    # no transcript of a fax call yet: the calling line is unknown, the file and function are phase_e_handler's
    headers = base_headers(switch.core, "CUSTOM", switch.clock.now_us(), ("mod_spandsp_fax.c", "phase_e_handler", 0))
    headers.insert(1, ("Event-Subclass", subclass))
    headers.extend(ch.basic_data())
    headers.extend(ch.variable_headers())
    headers.extend(extra)
    switch.bus.fire(SimEvent("CUSTOM", headers, "", subclass, unique_id=ch.uuid))
