"""The OpenAPI 3.1 description of the service, built from the models it validates with.

Input: the ids of the CDS services (the loaded policies). Output: the OpenAPI document served
at `/openapi.json` (checked into `docs/cds-hooks.openapi.json` for the bundled policy; a test
keeps the two equal). Schemas come from `leukorules.service.protocol`, so the description cannot
drift from what the service accepts and writes; a property-based run against the live service
(tests/test_service_openapi.py) checks that every answer conforms to it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from leukorules.service.protocol import (
    CONTEXTS,
    CdsRequest,
    CdsResponse,
    Discovery,
    ErrorBody,
)
from leukorules.version import __version__

REF = "#/components/schemas/{model}"


def _schemas(models: Sequence[type[BaseModel]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF, mode="serialization")
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    return found


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}},
    }


def _request_schemas() -> dict[str, Any]:
    """One request schema per hook (`PatientViewRequest`, `OrderSelectRequest`): `CdsRequest`
    with `hook` fixed and `context` the hook's (the service checks the context by hook)."""
    found = _schemas([CdsRequest, *CONTEXTS.values()])
    generic = found.pop("CdsRequest")
    for hook, context in CONTEXTS.items():
        schema = copy.deepcopy(generic)
        name = _request_name(hook)
        schema["title"] = name
        schema["properties"]["hook"] = {"type": "string", "const": hook}
        schema["properties"]["context"] = {"$ref": REF.format(model=context.__name__)}
        found[name] = schema
    return found


def _request_name(hook: str) -> str:
    return "".join(part.title() for part in hook.split("-")) + "Request"


def openapi_document(service_ids: Sequence[str]) -> dict[str, Any]:
    components = _schemas([CdsResponse, Discovery, ErrorBody])
    components.update(_request_schemas())
    service_id: dict[str, Any] = {"type": "string"}
    if service_ids:
        service_id["enum"] = list(service_ids)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "leukorules CDS Hooks service",
            "version": __version__,
            "description": (
                "HL7 CDS Hooks 2.0: one CDS service per loaded policy, its id the policy id. "
                "See docs/cds-hooks.md."
            ),
        },
        "paths": {
            "/cds-services": {
                "get": {
                    "operationId": "discovery",
                    "summary": "The CDS services, their hooks and prefetch templates",
                    "responses": {
                        "200": {
                            "description": "the discovery document",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": REF.format(model="Discovery")}
                                }
                            },
                        }
                    },
                }
            },
            "/cds-services/{service_id}": {
                "post": {
                    "operationId": "callService",
                    "summary": "Call a hook (patient-view or order-select)",
                    "security": [{"cdsClientJwt": []}],
                    "parameters": [
                        {"name": "service_id", "in": "path", "required": True, "schema": service_id}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": REF.format(model=_request_name(hook))}
                                        for hook in CONTEXTS
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "the cards",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": REF.format(model="CdsResponse")}
                                }
                            },
                        },
                        "400": _error("the request is malformed (the message names each field)"),
                        "401": _error("not authenticated: no card is given"),
                        "404": _error("no CDS service has that id"),
                        "412": _error(
                            "the data the service needs is neither prefetched nor fetchable "
                            "from the FHIR server"
                        ),
                        "413": _error("the request body is larger than the service accepts"),
                        "415": _error("the request body is not JSON"),
                        "500": _error("the decision could not be logged, so none is shown"),
                        "503": _error("the decision took longer than the service allows"),
                    },
                }
            },
            "/reports/{report_id}": {
                "get": {
                    "operationId": "report",
                    "summary": "The full HTML report of one decision (linked from its cards)",
                    "parameters": [
                        {
                            "name": "report_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "the report",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        },
                        "404": _error("no such report, or it has expired"),
                    },
                }
            },
        },
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "cdsClientJwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": (
                        "The CDS client's JSON Web Token, signed with an asymmetric key of a "
                        "trusted issuer; aud is the URL of the service called."
                    ),
                }
            },
        },
    }


def main() -> None:  # pragma: no cover - `python -m leukorules.service.openapi`
    """Print the description of the bundled policy's service (docs/cds-hooks.openapi.json)."""
    import json

    print(json.dumps(openapi_document(["leukoencephalopathy"]), indent=2, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    main()
