"""FHIR errors: every refusal is an OperationOutcome naming the element, never the value that was sent.

A view raises FhirError; the blueprint turns it into the response. Validation errors from fhir.resources are
reduced to the element's path and the kind of fault (pydantic's own messages may quote the input).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

# pydantic's error types, in words that name no value
FAULT_WORDS = {
    "missing": "required element missing",
    "extra_forbidden": "not an element of this resource",
    "literal_error": "value not allowed here",
    "enum": "value not allowed here",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
}


class FhirError(Exception):
    """A refusal: HTTP status, FHIR issue code, one line without patient data, and the element it concerns."""

    def __init__(self, status: int, code: str, diagnostics: str, expression: str = "") -> None:
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics, self.expression = status, code, diagnostics, expression

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.code, self.diagnostics, self.expression)


def operation_outcome(code: str, diagnostics: str, expression: str = "", severity: str = "error") -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def element_path(resource_type: str, location: tuple) -> str:
    """('name', 0, 'given') -> 'Patient.name[0].given' (the FHIRPath of the element at fault)."""
    path = resource_type
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def invalid_resource(resource_type: str, error: ValidationError) -> FhirError:
    """The first fault fhir.resources found, as a 400 naming its element."""
    first = error.errors()[0]
    fault = FAULT_WORDS.get(first["type"], "invalid value")
    path = element_path(resource_type, tuple(part for part in first["loc"] if part != "__root__"))
    return FhirError(400, "invalid", f"{path}: {fault}", path)


def not_found(resource_type: str, resource_id: str) -> FhirError:
    return FhirError(404, "not-found", f"{resource_type}/{resource_id}: no such resource")
