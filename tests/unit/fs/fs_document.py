"""Reading the assembled FreeSWITCH document in tests: sections, params, and dialplan routing.

route() follows mod_dialplan_xml: the first extension whose conditions all match the call wins.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET


def section(doc: ET.Element, name: str) -> ET.Element:
    found = doc.findall(f"./section[@name='{name}']")
    assert len(found) == 1, f"expected one <section name='{name}'>, found {len(found)}"
    return found[0]


def configuration(doc: ET.Element, name: str) -> ET.Element:
    found = section(doc, "configuration").findall(f"./configuration[@name='{name}']")
    assert len(found) == 1, f"expected one <configuration name='{name}'>, found {len(found)}"
    return found[0]


def params(parent: ET.Element) -> dict[str, str]:
    """name -> value of the <param> children; a name given twice is a mistake."""
    result: dict[str, str] = {}
    for param in parent.findall("./param"):
        name = param.get("name")
        assert name not in result, f"param {name!r} is set twice"
        result[name] = param.get("value")
    return result


def context(doc: ET.Element, name: str) -> ET.Element:
    found = section(doc, "dialplan").findall(f"./context[@name='{name}']")
    assert len(found) == 1, f"expected one dialplan context {name!r}, found {len(found)}"
    return found[0]


def _condition_matches(condition: ET.Element, destination: str) -> bool:
    field = condition.get("field")
    if field is None:
        return True
    assert field == "destination_number", f"test router only knows destination_number, got {field!r}"
    return re.search(condition.get("expression"), destination) is not None


def route(dialplan_context: ET.Element, destination: str) -> ET.Element:
    """The extension a call to destination runs; every extension must be final (no continue="true")."""
    for extension in dialplan_context.findall("./extension"):
        assert extension.get("continue") in (None, "false")
        if all(_condition_matches(c, destination) for c in extension.findall("./condition")):
            return extension
    raise AssertionError(f"no extension in context {dialplan_context.get('name')!r} takes the call")


def actions(extension: ET.Element) -> list[tuple[str, str | None]]:
    return [(a.get("application"), a.get("data")) for a in extension.findall("./condition/action")]


def variables_set(extension: ET.Element) -> dict[str, str]:
    return dict(data.split("=", 1) for app, data in actions(extension) if app == "set")
