"""The CDS Hooks service: leukorules inside the clinician's workflow (HL7 CDS Hooks 2.0).

Takes: checked policies (one CDS service each, its id the policy id), the service's
configuration (trusted issuers and their JWKS, limits, the decision log), and CDS Hooks calls
over HTTP: a hook request with the patient's FHIR R4 data as prefetch, or a FHIR server to
fetch it from. Gives: an ASGI application (`create_app`) answering discovery, `patient-view`
and `order-select` with cards (one per recommendation; one "information needed" card; a warning
card for contradictory or invalid data, never a recommendation on it), the HTML report of each
decision for a while, an OpenAPI description, and every decision in the hash-chained decision
log with the caller's `iss`/`sub` as its user.
Must never import: `leukorules.cli`, `leukorules.cohort`, `leukorules.syntax.lark_adapter`.

The service sits at the edge like the command line: it calls `leukorules.fhir` (record ->
facts), the compiled engine, `leukorules.report.html` and `leukorules.audit`, and nothing in
the core imports it. Its third-party packages (the `serve` extra: Starlette, uvicorn, httpx,
PyJWT) are imported by the modules that use them, never by this package's `__init__`, so
`leukorules serve` without the extra can say what to install.

Modules: `config` (settings, the config file), `expiring` (bounded stores with expiry: the jti
replay cache, the report store), `auth` (JWT verification against trusted JWKS), `protocol` (the
CDS Hooks request and response as pydantic models, which also give the OpenAPI schemas),
`prefetch` (templates from the policy's bindings; prefetched data -> one record), `fhirclient`
(fetching what the prefetch lacks), `cards` (an evaluation -> cards), `orders` (the order
catalogue and the order-select cards), `hooks` (one hook call, start to end, without HTTP),
`decisions` (the decision log writer), `reports` (the HTML report store), `openapi`, `app`
(routes and the HTTP rules: limits, timeouts, CORS, headers, what is logged).
"""

from __future__ import annotations

INSTALL_HINT = "pip install 'leukorules[serve]'"


class ServeExtraMissing(ImportError):
    """A package of the `serve` extra is not installed; the message is the one line to show."""

    def __init__(self, package: str) -> None:
        super().__init__(
            f"leukorules serve needs the serve extra ({package} is missing): {INSTALL_HINT}"
        )


def require_extra() -> None:
    """Raise `ServeExtraMissing` unless every package the service needs can be imported."""
    import importlib.util

    for module, package in (
        ("starlette", "starlette"),
        ("uvicorn", "uvicorn"),
        ("httpx", "httpx"),
        ("jwt", "PyJWT"),
        ("cryptography", "cryptography"),
        ("fhir.resources", "fhir.resources"),
    ):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise ServeExtraMissing(package)


__all__ = ["INSTALL_HINT", "ServeExtraMissing", "require_extra"]
