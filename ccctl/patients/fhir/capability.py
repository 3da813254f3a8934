"""The CapabilityStatement at /fhir/r4/metadata: what this server reads, writes and searches by."""

from __future__ import annotations

from typing import Any

SOFTWARE = "ccctl"
# resource type -> (interactions, search parameters)
RESOURCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Patient": (("read", "search-type", "create", "update"), ("identifier", "phone")),
    "Practitioner": (("read", "search-type"), ("identifier",)),
    "Schedule": (("read", "search-type"), ("actor", "service-type")),
    "Slot": (("read", "search-type"), ("schedule", "start", "status", "service-type")),
    "Appointment": (("read", "search-type", "create", "update"), ("patient", "date", "status", "identifier")),
    "Communication": (("read", "search-type"), ("patient", "subject", "category")),
}
PARAMETER_TYPES = {
    "start": "date",
    "date": "date",
    "patient": "reference",
    "subject": "reference",
    "actor": "reference",
}
PARAMETER_TYPES |= {"schedule": "reference", "phone": "token", "identifier": "token", "status": "token"}
PARAMETER_TYPES |= {"service-type": "token", "category": "token"}


def capability_statement(base_url: str) -> dict[str, Any]:
    resources = [
        {
            "type": resource_type,
            "interaction": [{"code": code} for code in interactions],
            "searchParam": [{"name": name, "type": PARAMETER_TYPES[name]} for name in parameters],
        }
        for resource_type, (interactions, parameters) in RESOURCES.items()
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-05",
        "kind": "instance",
        "software": {"name": SOFTWARE},
        "implementation": {"description": "ccctl contact center", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Authorization: Bearer <token> of an API client (ccctl api-clients add); "
                    "scope read for GET, write for POST and PUT",
                },
                "resource": resources,
            }
        ],
    }
