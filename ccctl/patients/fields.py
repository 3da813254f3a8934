"""Per-specialty custom patient fields: definitions from patient_fields/<specialty>.yaml, checked on every write.

Errors name the file and line (for a definition) or the field and the kind of value it
takes (for a patient's value); they never repeat the value itself, which is patient data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ccctl.errors import UserError

FIELD_TYPES = ("text", "integer", "decimal", "date", "choice", "boolean")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
SPECIALTY_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
FIELD_KEYS = {"type", "label", "required", "min", "max", "regex", "values", "sensitive"}
TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0"}
FIELDS_DIR_NAME = "patient_fields"
TEXT_MAX_CHARS = 2000  # a text field without its own max: longer is a paste gone wrong, refused before SQL


class FieldDefinitionError(UserError):
    """A patient_fields/*.yaml file is wrong; str() is one line naming the file and line."""


class FieldValueError(UserError, ValueError):
    """A custom field value does not fit its definition; str() names the field, never the value."""


@dataclass(frozen=True)
class FieldSpec:
    """One custom field: its type and the rules a value must meet."""

    name: str
    type: str
    label: str = ""
    required: bool = False
    min: Any = None  # number (integer/decimal), length (text), ISO date (date)
    max: Any = None
    regex: str | None = None
    values: tuple[str, ...] = ()  # choice
    sensitive: bool = False  # hidden in `ccctl patients show` unless asked for

    def kind(self) -> str:
        """The kind of value, for messages: 'integer', 'choice of a, b'."""
        return f"choice of {', '.join(self.values)}" if self.type == "choice" else self.type


@dataclass(frozen=True)
class SpecialtyFields:
    """The custom fields a specialty collects (one YAML file)."""

    specialty: str
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    source: str = ""


def _bounds_text(spec: FieldSpec) -> str:
    unit = " characters" if spec.type == "text" else ""
    if spec.min is not None and spec.max is not None:
        return f"between {spec.min} and {spec.max}{unit}"
    return f"at least {spec.min}{unit}" if spec.min is not None else f"at most {spec.max}{unit}"


def _out_of_bounds(spec: FieldSpec, measure: Any, low: Any, high: Any) -> None:
    if (low is not None and measure < low) or (high is not None and measure > high):
        raise FieldValueError(f"field '{spec.name}' ({spec.kind()}): must be {_bounds_text(spec)}")


def _convert(spec: FieldSpec, raw: Any) -> Any:
    """The stored (JSON) form of a value; FieldValueError naming the field and its kind."""
    bad = FieldValueError(f"field '{spec.name}': not a valid {spec.kind()}")
    text = raw.strip() if isinstance(raw, str) else raw
    if spec.type == "text":
        if not isinstance(text, str):
            raise bad
        if spec.max is None and len(text) > TEXT_MAX_CHARS:
            raise FieldValueError(f"field '{spec.name}' (text): must be at most {TEXT_MAX_CHARS} characters")
        _out_of_bounds(spec, len(text), spec.min, spec.max)
        if spec.regex and not re.fullmatch(spec.regex, text):
            raise FieldValueError(f"field '{spec.name}' (text): does not match its pattern {spec.regex}")
        return text
    if spec.type == "integer":
        if isinstance(text, bool) or not (isinstance(text, int) or re.fullmatch(r"[+-]?\d+", str(text))):
            raise bad
        number = int(text)
        _out_of_bounds(spec, number, spec.min, spec.max)
        return number
    if spec.type == "decimal":
        try:
            number = Decimal(str(text)) if not isinstance(text, bool) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise bad
        _out_of_bounds(spec, number, _decimal(spec.min), _decimal(spec.max))
        return str(number)  # text keeps the exact digits in JSON
    if spec.type == "date":
        try:
            day = text if isinstance(text, date) else date.fromisoformat(str(text))
        except ValueError:
            raise FieldValueError(f"field '{spec.name}': not a valid date (use YYYY-MM-DD)") from None
        _out_of_bounds(spec, day, _date(spec.min), _date(spec.max))
        return day.isoformat()
    if spec.type == "choice":
        if str(text) not in spec.values:
            raise bad
        return str(text)
    # boolean
    if isinstance(text, bool):
        return text
    word = str(text).lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise FieldValueError(f"field '{spec.name}': not a valid boolean (use yes or no)")
    return word in TRUE_WORDS


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _date(value: Any) -> date | None:
    return None if value is None else value if isinstance(value, date) else date.fromisoformat(str(value))


def check_custom_fields(
    specialties: dict[str, SpecialtyFields], specialty: str, values: dict[str, Any]
) -> dict[str, Any]:
    """The values converted for storage; FieldValueError for the first field that does not fit.

    Empty values ("" or None) count as absent. A patient without a specialty has no custom fields.
    """
    given = {name: value for name, value in values.items() if value is not None and value != ""}
    if not specialty:
        if given:
            raise FieldValueError(f"field '{sorted(given)[0]}': a patient without a specialty has no custom fields")
        return {}
    definition = specialties.get(specialty)
    if definition is None:
        known = ", ".join(sorted(specialties)) or "none defined"
        raise FieldValueError(f"specialty '{specialty}' has no field definitions (known: {known})")
    for name in sorted(given):
        if not FIELD_NAME.match(name):
            raise FieldValueError(
                f"a field name is lower-case letters, digits and _ (at most 64): not a {specialty} field"
            )
        if name not in definition.fields:
            raise FieldValueError(f"field '{name}': not a {specialty} field")
    for spec in definition.fields.values():
        if spec.required and spec.name not in given:
            raise FieldValueError(f"field '{spec.name}' ({spec.kind()}): required for {specialty} patients")
    return {name: _convert(definition.fields[name], value) for name, value in sorted(given.items())}


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key (for messages)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping: dict = {}
    lines: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    mapping["__lines__"] = lines
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _field_spec(name: Any, data: Any, path: Path, line: int) -> FieldSpec:
    where = f"{path}:{line}"
    if not isinstance(name, str) or not FIELD_NAME.match(name):
        raise FieldDefinitionError(f"{where}: field name {name!r} must be lower-case letters, digits and _")
    if not isinstance(data, dict):
        raise FieldDefinitionError(f"{where}: field '{name}' must be a mapping with at least 'type'")
    lines = data.pop("__lines__", {})
    for key in data:
        if key not in FIELD_KEYS:
            known = ", ".join(sorted(FIELD_KEYS))
            raise FieldDefinitionError(f"{where}: field '{name}': unknown key '{key}' (known: {known})")
    kind = data.get("type")
    if kind not in FIELD_TYPES:
        raise FieldDefinitionError(f"{where}: field '{name}': 'type' must be one of {', '.join(FIELD_TYPES)}")
    values = data.get("values", [])
    if kind == "choice" and (not isinstance(values, list) or not values):
        raise FieldDefinitionError(f"{where}: field '{name}': a choice needs a non-empty 'values' list")
    regex = data.get("regex")
    if regex is not None:
        try:
            re.compile(str(regex))
        except re.error as exc:
            raise FieldDefinitionError(
                f"{path}:{lines.get('regex', line)}: field '{name}': bad regex ({exc})"
            ) from None
    spec = FieldSpec(
        name=name,
        type=kind,
        label=str(data.get("label", "")),
        required=bool(data.get("required", False)),
        min=data.get("min"),
        max=data.get("max"),
        regex=None if regex is None else str(regex),
        values=tuple(str(value) for value in values),
        sensitive=bool(data.get("sensitive", False)),
    )
    _check_bounds(spec, where)
    return spec


def _check_bounds(spec: FieldSpec, where: str) -> None:
    for key in ("min", "max"):
        bound = getattr(spec, key)
        if bound is None:
            continue
        try:
            if spec.type in ("integer", "text") and (isinstance(bound, bool) or not isinstance(bound, int)):
                raise ValueError
            if spec.type == "decimal":
                Decimal(str(bound))
            if spec.type == "date":
                _date(bound)
            if spec.type in ("choice", "boolean"):
                raise ValueError
        except (ValueError, InvalidOperation):
            raise FieldDefinitionError(f"{where}: field '{spec.name}': '{key}' does not fit a {spec.type}") from None


def load_specialty(path: Path) -> SpecialtyFields:
    """One specialty's fields from `<specialty>.yaml`: a mapping `fields:` of name -> definition."""
    specialty = path.stem
    if not SPECIALTY_NAME.match(specialty):
        raise FieldDefinitionError(f"{path}: specialty name '{specialty}' must be lower-case letters, digits, - and _")
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - SafeLoader
    except OSError as exc:
        raise FieldDefinitionError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise FieldDefinitionError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(document, dict) or not isinstance(document.get("fields"), dict):
        raise FieldDefinitionError(f"{path}: needs a mapping 'fields:' of field name -> definition")
    fields_map = document["fields"]
    lines = fields_map.pop("__lines__", {})
    specs = {}
    for name, data in fields_map.items():
        spec = _field_spec(name, data, path, lines.get(name, 1))
        specs[spec.name] = spec
    return SpecialtyFields(specialty=specialty, fields=specs, source=str(path))


def default_fields_dir() -> Path:
    """./patient_fields if present, else the one shipped beside the ccctl package (a source checkout)."""
    here = Path(FIELDS_DIR_NAME)
    if here.is_dir():
        return here
    import ccctl

    return Path(ccctl.__file__).resolve().parent.parent / FIELDS_DIR_NAME


def load_specialties(directory: str | Path | None = None) -> dict[str, SpecialtyFields]:
    """Every `<specialty>.yaml` in the directory; an absent directory means no specialties."""
    folder = Path(directory) if directory is not None else default_fields_dir()
    if not folder.is_dir():
        return {}
    return {spec.specialty: spec for spec in (load_specialty(path) for path in sorted(folder.glob("*.yaml")))}
