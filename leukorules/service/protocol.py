"""The CDS Hooks 2.0 messages as pydantic models: what a request must hold, what cards hold.

Input: JSON from a CDS client. Output: validated requests (`CdsRequest`, then the hook's
context: `PatientViewContext`, `OrderSelectContext`), or pydantic's errors, which the
application turns into one 400 message naming each wrong field. The response models (`Card`,
`CdsResponse`, `Discovery`) are what the service writes, dumped without null fields (the
specification: optional fields are omitted, never null). The same models give the OpenAPI
description its schemas (`leukorules.service.openapi`).

Beyond the specification, for safety: `patientId` must be a FHIR id (letters, digits, `-` and
`.`, at most 64), because it is put into the FHIR server's search URLs; `hookInstance` and
`userId` are short printable texts (the hookInstance becomes the decision log's case label).
Unknown fields are allowed (clients add extensions) and ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FHIR_ID = r"^[A-Za-z0-9\-.]{1,64}$"
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
SUMMARY_MAX = 139  # the specification: a summary of fewer than 140 characters

Indicator = Literal["info", "warning", "critical"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- requests -----------------------------------------------------------------------------------


class FhirAuthorization(_Open):
    """An OAuth 2.0 bearer token for the client's FHIR server (never logged, never stored)."""

    # RFC 6750: a bearer token is visible ASCII (it travels in an HTTP header)
    access_token: str = Field(min_length=1, max_length=8192, pattern=r"^[\x21-\x7e]+$")
    token_type: Literal["Bearer"]
    expires_in: int = Field(ge=0)
    scope: str = Field(max_length=8192)
    subject: str = Field(max_length=1024)
    patient: str | None = Field(default=None, pattern=FHIR_ID)


class CdsRequest(_Open):
    """A hook call. `context` is checked against the hook's own model afterwards."""

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        # the specification: fhirServer is required when fhirAuthorization is given
        json_schema_extra={"dependentRequired": {"fhirAuthorization": ["fhirServer"]}},
    )

    hook: str = Field(min_length=1, max_length=64, pattern=PRINTABLE)
    hookInstance: str = Field(min_length=1, max_length=200, pattern=PRINTABLE)
    fhirServer: str | None = Field(
        default=None, max_length=2048, pattern=r"^https?://[\x21-\x7e]+$"
    )
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, dict[str, Any] | None] | None = Field(
        default=None,
        description="FHIR data by prefetch key: a resource, a searchset Bundle, or null (the "
        "client has no data for that template)",
    )


class PatientViewContext(_Open):
    userId: str = Field(min_length=1, max_length=200, pattern=PRINTABLE)
    patientId: str = Field(pattern=FHIR_ID)
    encounterId: str | None = Field(default=None, max_length=200, pattern=PRINTABLE)


class OrderSelectContext(PatientViewContext):
    selections: list[str] = Field(min_length=1, max_length=100)
    draftOrders: dict[str, Any] = Field(
        description="a Bundle of the draft orders of this ordering session"
    )


# The hooks a service may answer, and the model of each one's context.
CONTEXTS: dict[str, type[PatientViewContext]] = {
    "patient-view": PatientViewContext,
    "order-select": OrderSelectContext,
}


# --- responses ----------------------------------------------------------------------------------


class Coding(_Closed):
    system: str | None = None
    code: str
    display: str | None = None


class CardSource(_Closed):
    label: str
    url: str | None = None
    topic: Coding | None = None


class Link(_Closed):
    label: str
    url: str
    type: Literal["absolute", "smart"] = "absolute"


class Card(_Closed):
    uuid: str
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX)
    indicator: Indicator
    detail: str | None = None
    source: CardSource
    links: list[Link] | None = None


class CdsResponse(_Closed):
    cards: list[Card]


class ServiceDescription(_Closed):
    hook: str
    id: str
    title: str
    description: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None


class Discovery(_Closed):
    services: list[ServiceDescription]


class ErrorBody(_Closed):
    """Every error answer: a code (`bad_request`, `unauthorized`, ...) and a message for people.
    Never a card."""

    error: str
    message: str


def dump(model: BaseModel) -> dict[str, Any]:
    """A response model as JSON data, optional fields left out instead of null."""
    data: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return data
