"""The service's OpenAPI description: checked in (docs/cds-hooks.openapi.json) equal to what the
service serves, and a property-based run of schemathesis against the live service: generated
requests, valid and invalid, each with a fresh signed token, every answer checked against the
description (documented status, content type and schema, never a server error).

The number of examples is bounded (`EXAMPLES`) so the run stays a few seconds in CI. Generated
`fhirServer` URLs the description allows are pointed at a FHIR server on loopback (a call never
leaves the machine); the others are sent as generated, and must be refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from service_helpers import (
    FIXED_TODAY,
    ISSUER,
    LiveServer,
    Signer,
    fhir_server_app,
    load_bundle,
    resources_of,
    write_jwks,
)

from leukorules.service.app import build_state, create_app
from leukorules.service.config import ServiceConfig
from leukorules.service.openapi import openapi_document
from leukorules.syntax.grammar import bundled_policy_dir

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "cds-hooks.openapi.json"
EXAMPLES = 60


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer("ec", "fuzz-ec")


@pytest.fixture(scope="module")
def fhir() -> Iterator[LiveServer]:
    bundle = load_bundle("adem-steroid-nonresponder")
    with LiveServer(fhir_server_app(resources_of(bundle), token=None)) as server:
        yield server


@pytest.fixture(scope="module")
def service(signer: Signer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("fuzz")
    jwks = write_jwks(folder / "jwks.json", signer)

    def make(url: str) -> Any:
        config = ServiceConfig.build(
            policies=[bundled_policy_dir()],
            base_url=url,
            trust=[f"{ISSUER}={jwks}"],
            log=folder / "decisions.db",
        )
        state = build_state(config)
        state.today = lambda: FIXED_TODAY
        return create_app(state)

    with LiveServer(make) as server:
        yield server


def test_the_checked_in_description_is_the_one_served(service: LiveServer, golden: Any) -> None:
    expected = openapi_document(["leukoencephalopathy"])
    golden.check(DOCUMENT, json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
    assert httpx.get(f"{service.url}/openapi.json").json() == expected


def _schema() -> Any:
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text(encoding="utf-8")))
    # Every call carries a token the harness signs (a generated one could not be verified, and
    # each authentication failure has its own test in test_service_security.py): invalid
    # requests are generated in the other parts.
    schema.config.generation.update(with_security_parameters=False)
    return schema


# `positive_data_acceptance` expects every schema-valid request to succeed; a request valid by
# the schema may still be refused for what it means (a hook this service does not answer,
# data neither prefetched nor fetchable: 412), and those answers are documented.
EXCLUDED = [positive_data_acceptance]


# A fhirServer address the description allows: the harness points it at the FHIR server on
# loopback. One it does not allow is left as generated: the service refuses it before any fetch.
FHIR_SERVER = re.compile(r"https?://[\x21-\x7e]+")


def _call(case: Any, service: LiveServer, signer: Signer, fhir: LiveServer) -> int:
    headers = {"Content-Type": "application/json"}
    if case.method == "POST":
        url = f"{service.url}{case.formatted_path}"
        headers["Authorization"] = f"Bearer {signer.token(url)}"
        address = case.body.get("fhirServer") if isinstance(case.body, dict) else None
        if isinstance(address, str) and FHIR_SERVER.fullmatch(address) and len(address) <= 2048:
            case.body = {**case.body, "fhirServer": fhir.url}  # never leave the machine
    response = case.call(base_url=service.url, headers=headers, timeout=30)
    assert response.status_code < 500, response.text
    case.validate_response(response, excluded_checks=EXCLUDED, headers=headers)
    return int(response.status_code)


@pytest.mark.parametrize(
    ("path", "method", "mode"),
    [
        ("/cds-services/{service_id}", "POST", GenerationMode.POSITIVE),
        ("/cds-services/{service_id}", "POST", GenerationMode.NEGATIVE),
        # the GETs take nothing that could be invalid: any text is a report id to look up
        ("/cds-services", "GET", GenerationMode.POSITIVE),
        ("/reports/{report_id}", "GET", GenerationMode.POSITIVE),
    ],
)
def test_the_live_service_conforms_to_its_description(
    service: LiveServer,
    signer: Signer,
    fhir: LiveServer,
    path: str,
    method: str,
    mode: GenerationMode,
) -> None:
    operation = _schema()[path][method]
    strategy = operation.as_strategy(generation_mode=mode)
    examples = EXAMPLES if method == "POST" else 10
    statuses: list[int] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        statuses.append(_call(data.draw(strategy), service, signer, fhir))

    run()
    # the run reached the decision, not only the checks in front of it
    if (method, mode) == ("POST", GenerationMode.POSITIVE):
        assert 200 in statuses, sorted(set(statuses))
    if (method, mode) == ("POST", GenerationMode.NEGATIVE):
        assert 400 in statuses, sorted(set(statuses))
