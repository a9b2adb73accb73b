"""The CDS Hooks service over real HTTP on loopback: discovery, patient-view and order-select
with prefetch and with a FHIR server, the cards, the reports, and the decision log.

The service runs in uvicorn on a free port with the bundled policy, a trusted issuer whose
JWKS file holds keys generated for this module, and a decision log; every call carries a signed
token. Authentication failures, malformed requests and limits: tests/test_service_security.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_helpers import (
    FIXED_TODAY,
    ISSUER,
    LiveServer,
    Signer,
    fhir_server_app,
    hook_request,
    load_bundle,
    patient_id_of,
    prefetch_of,
    resources_of,
    write_jwks,
)

from leukorules.audit import open_log
from leukorules.audit.verify import verify_log
from leukorules.service.app import build_state, create_app
from leukorules.service.config import ServiceConfig
from leukorules.syntax.grammar import bundled_policy_dir

SERVICE = "leukoencephalopathy"


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer("rsa", "rsa-key-1")


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("log") / "decisions.db"


@pytest.fixture(scope="module")
def service(signer: Signer, log_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    jwks = write_jwks(tmp_path_factory.mktemp("keys") / "jwks.json", signer)

    def make(url: str) -> Any:
        config = ServiceConfig.build(
            policies=[bundled_policy_dir()],
            base_url=url,
            trust=[f"{ISSUER}={jwks}"],
            log=log_path,
        )
        state = build_state(config)
        state.today = lambda: FIXED_TODAY
        return create_app(state)

    with LiveServer(make) as server:
        yield server


class Client:
    def __init__(self, server: LiveServer, signer: Signer) -> None:
        self.server = server
        self.signer = signer
        self.http = httpx.Client(timeout=30)

    def call(self, request: dict[str, Any], service: str = SERVICE) -> httpx.Response:
        url = f"{self.server.url}/cds-services/{service}"
        token = self.signer.token(url)
        return self.http.post(url, json=request, headers={"Authorization": f"Bearer {token}"})

    def cards(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.call(request)
        assert response.status_code == 200, response.text
        cards: list[dict[str, Any]] = response.json()["cards"]
        return cards


@pytest.fixture(scope="module")
def client(service: LiveServer, signer: Signer) -> Client:
    return Client(service, signer)


def request_for(name: str, hook: str = "patient-view", **extra: Any) -> dict[str, Any]:
    bundle = load_bundle(name)
    return hook_request(patient_id_of(bundle), prefetch_of(bundle), hook, **extra)


# --- discovery ---------------------------------------------------------------------------------


def test_discovery_lists_both_hooks_of_the_policy_with_prefetch_templates(
    service: LiveServer,
) -> None:
    response = httpx.get(f"{service.url}/cds-services")
    assert response.status_code == 200
    services = response.json()["services"]
    assert {(s["id"], s["hook"]) for s in services} == {
        (SERVICE, "patient-view"),
        (SERVICE, "order-select"),
    }
    for entry in services:
        assert entry["title"] and entry["description"]
        prefetch = entry["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        kinds = {query.split("?")[0].split("/")[0] for query in prefetch.values()}
        assert kinds == {
            "Patient",
            "Condition",
            "Observation",
            "MedicationStatement",
            "MedicationRequest",
        }
        assert all("{{context.patientId}}" in query for query in prefetch.values())
    # the searches name the codes the bindings read (the minimum necessary)
    assert "http://snomed.info/sct|22255007" in services[0]["prefetch"]["conditions"]


# --- patient-view --------------------------------------------------------------------------------


def test_patient_view_gives_one_card_per_recommendation(client: Client) -> None:
    cards = client.cards(request_for("adem-steroid-nonresponder"))
    summaries = [c["summary"] for c in cards]
    assert "High-dose corticosteroids (first-line)" in summaries
    for card in cards:
        assert 0 < len(card["summary"]) < 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"].startswith("Treatment Approach for Leukoencephalopathy")
        assert card["uuid"]
    steroid = next(c for c in cards if c["summary"].startswith("High-dose corticosteroids"))
    assert steroid["indicator"] == "warning"  # first-line
    detail = steroid["detail"]
    assert "> High-dose corticosteroids are recommended as first-line treatment" in detail
    assert "reference \\[4\\] in the source" in detail
    assert "`leukoencephalopathy_type` = post\\_infectious" in detail
    # the deciding fact names the resource that gave it
    assert "Condition/adem-steroid-nonresponder-leukoencephalopathy-type" in detail
    assert steroid["source"]["label"].endswith("reference [4]")
    assert steroid["source"]["topic"]["code"] == "adem.corticosteroids"
    crucial = [c for c in cards if c["indicator"] == "critical"]
    assert all("(crucial)" in c["summary"] for c in crucial)


def test_undetermined_recommendations_come_as_one_information_needed_card(
    client: Client,
) -> None:
    cards = client.cards(request_for("adem-steroid-nonresponder"))
    needed = [c for c in cards if c["summary"].startswith("Information needed")]
    assert len(needed) == 1
    card = needed[0]
    assert card["indicator"] == "info"
    # the clinician's judgement no code carries: the response to corticosteroids
    assert "`corticosteroid_response`" in card["detail"]
    assert "Plasma exchange is recommended for patients not responding" in card["detail"]
    assert "Plasma exchange" not in [c["summary"] for c in cards]


def test_every_card_links_to_the_report_of_its_decision(client: Client) -> None:
    cards = client.cards(request_for("hiv-associated-pml"))
    links = {link["url"] for card in cards for link in card.get("links", [])}
    assert len(links) == 1  # one decision, one report
    url = links.pop()
    assert url.startswith(f"{client.server.url}/reports/")
    assert len(url.rsplit("/", 1)[1]) >= 43  # 256 random bits
    page = httpx.get(url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "Treatment Approach for Leukoencephalopathy" in page.text
    # the report is this patient's decision: the facts the record gave, and the resources
    # that gave them
    assert "hiv_positive" in page.text
    assert "<th>From the record</th>" in page.text
    assert "Condition/hiv-associated-pml-leukoencephalopathy-type (SNOMED CT 22255007" in page.text
    missing = httpx.get(f"{client.server.url}/reports/not-a-report")
    assert missing.status_code == 404
    assert "cards" not in missing.json()


def test_prefetch_null_means_no_data_and_the_patient_key_may_be_left_out(
    client: Client,
) -> None:
    request = request_for("adem-steroid-nonresponder")
    request["prefetch"]["observations"] = None
    del request["prefetch"]["patient"]
    cards = client.cards(request)
    assert "High-dose corticosteroids (first-line)" in [c["summary"] for c in cards]


def test_missing_prefetch_without_a_fhir_server_is_412(client: Client) -> None:
    request = request_for("adem-steroid-nonresponder")
    del request["prefetch"]["conditions"]
    response = client.call(request)
    assert response.status_code == 412
    assert "conditions" in response.json()["message"]
    assert "cards" not in response.json()
    request["prefetch"]["conditions"] = {"resourceType": "OperationOutcome"}
    assert client.call(request).status_code == 412


# --- the FHIR server path -----------------------------------------------------------------------


def test_without_prefetch_the_service_fetches_from_the_fhir_server(client: Client) -> None:
    bundle = load_bundle("adem-steroid-nonresponder")
    patient = patient_id_of(bundle)
    make = fhir_server_app(resources_of(bundle), token="fhir-token", page_size=1)
    with LiveServer(make) as fhir:
        request = hook_request(
            patient,
            None,
            fhirServer=fhir.url,
            fhirAuthorization={
                "access_token": "fhir-token",
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "user/Condition.read user/Observation.read",
                "subject": "leukorules",
            },
        )
        fetched = client.cards(request)
        seen = fhir.app.state.seen
    prefetched = client.cards(request_for("adem-steroid-nonresponder"))
    assert [c["summary"] for c in fetched] == [c["summary"] for c in prefetched]
    assert [c["detail"] for c in fetched] == [c["detail"] for c in prefetched]
    # every template was fetched, pages followed, always with the client's token
    paths = [path for path, _ in seen]
    assert f"/Patient/{patient}" in paths
    assert paths.count("/Condition") > 1  # one Condition a page
    assert {auth for _, auth in seen} == {"Bearer fhir-token"}


def test_only_what_the_prefetch_lacks_is_fetched(client: Client) -> None:
    bundle = load_bundle("hiv-associated-pml")
    make = fhir_server_app(resources_of(bundle), token=None)
    with LiveServer(make) as fhir:
        request = request_for("hiv-associated-pml", fhirServer=fhir.url)
        del request["prefetch"]["medicationrequests"]
        client.cards(request)
        seen = [path for path, _ in fhir.app.state.seen]
    assert seen == ["/MedicationRequest"]


def test_a_fhir_server_refusing_the_token_is_412(client: Client) -> None:
    bundle = load_bundle("hiv-associated-pml")
    make = fhir_server_app(resources_of(bundle), token="right-token")
    with LiveServer(make) as fhir:
        request = hook_request(
            patient_id_of(bundle),
            None,
            fhirServer=fhir.url,
            fhirAuthorization={
                "access_token": "wrong-token",
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "user/*.read",
                "subject": "leukorules",
            },
        )
        response = client.call(request)
    assert response.status_code == 412
    assert "refused" in response.json()["message"]
    assert "wrong-token" not in response.text


# --- data the service will not decide on ----------------------------------------------------------


def _condition(rid: str, patient: str, system: str, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": f"Patient/{patient}"},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": system, "code": code}]},
    }


def _only_warning(cards: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(cards) == 1, [c["summary"] for c in cards]
    card = cards[0]
    assert card["indicator"] == "warning"
    assert "no recommendation was made" in card["summary"]
    assert "links" not in card  # no decision, no report
    return card


def test_sources_that_disagree_give_a_warning_card_and_no_recommendation(
    client: Client,
) -> None:
    request = request_for("hiv-associated-pml")
    patient = request["context"]["patientId"]
    adem = _condition("adem-too", patient, "http://hl7.org/fhir/sid/icd-10-cm", "G04.01")
    request["prefetch"]["conditions"]["entry"].append({"resource": adem})
    card = _only_warning(client.cards(request))
    assert "contradicts itself" in card["summary"]
    assert "`leukoencephalopathy_type`" in card["detail"]
    assert "LR521" in card["detail"]


def test_invalid_fhir_gives_a_warning_card_and_no_recommendation(client: Client) -> None:
    request = request_for("hiv-associated-pml")
    condition = request["prefetch"]["conditions"]["entry"][0]["resource"]
    condition["clinicalStatus"] = {"coding": "not a list"}
    card = _only_warning(client.cards(request))
    assert "invalid FHIR" in card["summary"]
    assert "conditions: Bundle.entry[0].resource.clinicalStatus" in card["detail"]


def test_a_resource_of_another_patient_gives_a_warning_card(client: Client) -> None:
    request = request_for("hiv-associated-pml")
    other = _condition("elsewhere", "somebody-else", "http://snomed.info/sct", "22255007")
    request["prefetch"]["conditions"]["entry"].append({"resource": other})
    card = _only_warning(client.cards(request))
    assert "another patient" in card["detail"]


# --- order-select --------------------------------------------------------------------------------


def _draft(kind: str, rid: str, patient: str, system: str, code: str) -> dict[str, Any]:
    element = "medicationCodeableConcept" if kind == "MedicationRequest" else "code"
    return {
        "resourceType": kind,
        "id": rid,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient}"},
        element: {"coding": [{"system": system, "code": code}]},
    }


IVIG = ("MedicationRequest", "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "J1459")
PLASMA_EXCHANGE = ("ServiceRequest", "http://www.ama-assn.org/go/cpt", "36514")


def order_request(name: str, *orders: tuple[str, str, str]) -> dict[str, Any]:
    request = request_for(name, "order-select")
    patient = request["context"]["patientId"]
    drafts = [
        _draft(kind, f"order-{i}", patient, system, code)
        for i, (kind, system, code) in enumerate(orders)
    ]
    request["context"]["selections"] = [f"{d['resourceType']}/{d['id']}" for d in drafts]
    request["context"]["draftOrders"] = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": d} for d in drafts],
    }
    return request


def test_selecting_ivig_shows_the_adem_sequence_and_what_is_still_unknown(
    client: Client,
) -> None:
    cards = client.cards(order_request("adem-steroid-nonresponder", IVIG))
    assert len(cards) == 1
    card = cards[0]
    assert card["summary"].startswith("Intravenous immunoglobulin (IVIG): information needed")
    assert card["indicator"] == "info"
    detail = card["detail"]
    # the sequencing statements, verbatim, in line order, each with whether it holds
    first = detail.index("High-dose corticosteroids are recommended as first-line treatment")
    second = detail.index("Plasma exchange is recommended for patients not responding")
    third = detail.index("Intravenous immunoglobulin (IVIG) may be considered")
    assert first < second < third
    assert "**satisfied**: `leukoencephalopathy_type` = post\\_infectious" in detail
    assert "find out `plasma_exchange_response`" in detail
    assert card["links"][0]["url"].startswith(f"{client.server.url}/reports/")


def test_selecting_ivig_for_a_patient_outside_the_sequence_is_a_warning(
    client: Client,
) -> None:
    cards = client.cards(order_request("hiv-associated-pml", IVIG))
    assert [c["indicator"] for c in cards] == ["warning"]
    assert "do not satisfy" in cards[0]["summary"]
    assert "**not satisfied**" in cards[0]["detail"]
    assert "leukoencephalopathy_type" in cards[0]["detail"]


def test_selecting_plasma_exchange_shows_its_part_of_the_sequence(client: Client) -> None:
    cards = client.cards(order_request("adem-steroid-nonresponder", PLASMA_EXCHANGE))
    assert len(cards) == 1
    detail = cards[0]["detail"]
    assert "High-dose corticosteroids are recommended" in detail
    assert "IVIG" not in detail  # a later line is not part of plasma exchange's sequence
    assert "find out `corticosteroid_response`" in detail


def test_orders_the_catalogue_does_not_know_give_no_card(client: Client) -> None:
    other = ("MedicationRequest", "http://www.nlm.nih.gov/research/umls/rxnorm", "197361")
    assert client.cards(order_request("adem-steroid-nonresponder", other)) == []
    request = order_request("adem-steroid-nonresponder", IVIG)
    request["context"]["selections"] = ["MedicationRequest/not-in-the-bundle"]
    assert client.cards(request) == []


def test_order_select_on_contradictory_data_gives_the_warning_card(client: Client) -> None:
    request = order_request("hiv-associated-pml", IVIG)
    patient = request["context"]["patientId"]
    adem = _condition("adem-too", patient, "http://hl7.org/fhir/sid/icd-10-cm", "G04.01")
    request["prefetch"]["conditions"]["entry"].append({"resource": adem})
    _only_warning(client.cards(request))


# --- the decision log --------------------------------------------------------------------------


def test_each_decision_is_logged_with_the_caller_and_the_hook_instance(
    client: Client, log_path: Path
) -> None:
    request = request_for("mycophenolate-pml-signs")
    client.cards(request)
    with open_log(log_path) as log:
        rows = list(log.rows())
    row = rows[-1]
    assert row.user == f"dr-who ({ISSUER})"
    assert row.case == request["hookInstance"]
    assert row.policy_id == SERVICE
    assert verify_log(log_path).ok
    # facts are stored (replayable), and the result is the one the cards were made from
    assert json.loads(row.result)["policy"]["id"] == SERVICE


def test_data_the_service_refuses_is_not_logged(client: Client, log_path: Path) -> None:
    with open_log(log_path) as log:
        before = len(list(log.rows()))
    request = request_for("hiv-associated-pml")
    request["prefetch"]["conditions"]["entry"][0]["resource"]["clinicalStatus"] = {"coding": 1}
    client.cards(request)
    with open_log(log_path) as log:
        assert len(list(log.rows())) == before


def test_the_same_request_twice_needs_two_tokens_and_gives_two_decisions(
    client: Client,
) -> None:
    request = request_for("mycophenolate-no-pml-signs")
    first = client.cards(copy.deepcopy(request))
    second = client.cards(copy.deepcopy(request))
    assert [c["summary"] for c in first] == [c["summary"] for c in second]
    assert first[0]["uuid"] != second[0]["uuid"]
    assert first[0]["links"][0]["url"] != second[0]["links"][0]["url"]


def test_a_fhir_server_answer_nesting_too_deep_is_412(client: Client) -> None:
    bundle = load_bundle("hiv-associated-pml")
    resources = resources_of(bundle)
    deep: Any = "bottom"
    for _ in range(80):
        deep = [deep]
    resources[1] = {**resources[1], "note": deep}
    with LiveServer(fhir_server_app(resources, token=None)) as fhir:
        response = client.call(hook_request(patient_id_of(bundle), None, fhirServer=fhir.url))
    assert response.status_code == 412
    assert "nests deeper than 64" in response.json()["message"]
