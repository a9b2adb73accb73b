"""The CDS Hooks service's parts without HTTP: the expiring store, the settings, the order
catalogue, the prefetch templates, the cards, and one hook call through `hooks.decide` on a
small policy whose sequence the record alone decides (so order-select can be satisfied)."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
from service_helpers import hook_request

from leukorules.check import check_paths
from leukorules.engine.compile import compile_policy
from leukorules.result import model as r
from leukorules.service.app import load_services
from leukorules.service.cards import CardContext, indicator_of, one_line, recommendation_card
from leukorules.service.config import ConfigError, Limits, ServiceConfig
from leukorules.service.expiring import ExpiringMap
from leukorules.service.hooks import Call, PolicyService, decide
from leukorules.service.orders import HCPCS, CatalogueError, load_catalogue
from leukorules.service.prefetch import missing_keys
from leukorules.service.protocol import CdsRequest, OrderSelectContext, PatientViewContext
from leukorules.syntax.grammar import bundled_policy_dir

MINI = """\
policy mini {
  title "Mini guideline"
  version "2.0"
}

evidence 1 {
  citation unknown
}

fact diagnosis: enum {adem, other} "The diagnosis"

section "ADEM" {
  rule mini.steroids {
    statement "Steroids come first"
    evidence 1
    when diagnosis == adem
    recommend "Steroids"
    strength first_line
  }

  rule mini.exchange {
    statement "Exchange comes after steroids"
    evidence 1
    when diagnosis == adem
    after mini.steroids
    recommend "Exchange"
    strength recommended
  }
}

valueset adem "ADEM" {
  icd10cm G04.01 "Postinfectious acute disseminated encephalitis and encephalomyelitis"
    source "http://imedicalcode.com/coding/icd10Cm/book/category/G04?c=G04"
}

bind diagnosis {
  Condition in adem gives adem, lasting
}
"""

EXCHANGE_ORDER = """\
[[order]]
rule = "mini.exchange"
resource = "ServiceRequest"

[[order.code]]
system = "cpt"
code = "36514"
display = "Therapeutic apheresis; for plasma pheresis"
source = "https://genhealth.ai/code/cpt4/36514-therapeutic-apheresis-for-plasma-pheresis"
"""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --- the expiring store --------------------------------------------------------------------------


def test_entries_expire_and_are_never_returned_after() -> None:
    clock = Clock()
    store: ExpiringMap[str, int] = ExpiringMap(10, evict=False, clock=clock)
    assert store.add("a", 1, expires=5)
    assert store.get("a") == 1
    assert not store.add("a", 2, expires=9)  # a live key is not replaced
    clock.now = 5
    assert store.get("a") is None
    assert store.add("a", 3, expires=9)
    assert store.get("a") == 3


def test_a_full_store_refuses_or_evicts_the_entry_nearest_expiry() -> None:
    clock = Clock()
    refusing: ExpiringMap[int, int] = ExpiringMap(3, evict=False, clock=clock)
    evicting: ExpiringMap[int, int] = ExpiringMap(3, evict=True, clock=clock)
    for key, expires in ((1, 30), (2, 10), (3, 20)):
        assert refusing.add(key, key, expires)
        assert evicting.add(key, key, expires)
    assert not refusing.add(4, 4, 40)  # a jti cache never forgets a live jti
    assert evicting.add(4, 4, 40)
    assert evicting.get(2) is None and evicting.get(1) == 1
    clock.now = 15  # expired entries make room
    assert refusing.add(5, 5, 50)
    assert len(refusing) == 3


def test_the_store_stays_bounded_under_many_adds() -> None:
    clock = Clock()
    store: ExpiringMap[int, int] = ExpiringMap(100, evict=True, clock=clock)
    for i in range(10_000):
        clock.now = i
        store.add(i, i, i + 50)
    assert len(store) <= 100
    assert len(store._heap) <= 400


# --- settings ----------------------------------------------------------------------------------


def test_command_line_values_win_over_the_config_file(tmp_path: Path) -> None:
    config_file = tmp_path / "service.toml"
    config_file.write_text(
        '[service]\nhost = "0.0.0.0"\nport = 9000\npolicies = ["p"]\nlog = "d.db"\n\n'
        '[[trust]]\nissuer = "https://a"\njwks = "keys/a.json"\n\n'
        "[limits]\nmax_body_bytes = 1000\nrequest_timeout_seconds = 2.5\n",
        encoding="utf-8",
    )
    config = ServiceConfig.build(
        config_file=config_file, port=9001, trust=["https://b=https://b.example/jwks"]
    )
    assert (config.host, config.port) == ("0.0.0.0", 9001)
    assert config.base_url == "http://0.0.0.0:9001"
    assert config.policies == (tmp_path / "p",)
    assert config.log == tmp_path / "d.db"
    assert [t.issuer for t in config.trusted] == ["https://a", "https://b"]
    assert config.trusted[0].jwks == str(tmp_path / "keys" / "a.json")
    assert config.limits.max_body_bytes == 1000
    assert config.limits.request_timeout_seconds == 2.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[service]\nprot = 1\n", "unknown key service.prot"),
        ("[limits]\nmax_body_bytes = 0\n", "positive"),
        ("[limits]\nmax_body_bytes = 1.5\n", "whole number"),
        ("[limits]\nworkers = true\n", "positive"),
        ("[other]\n", "unknown table"),
        ("[[trust]]\nissuer = 1\njwks = 'x'\n", "issuer and jwks"),
        ("[service]\nport = 70000\n", "port number"),
        ("not toml = = 1", "not TOML"),
    ],
)
def test_a_wrong_config_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    config_file = tmp_path / "bad.toml"
    config_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        ServiceConfig.build(config_file=config_file)


def test_wrong_trust_options_and_urls_are_refused() -> None:
    with pytest.raises(ConfigError, match="ISSUER=JWKS"):
        ServiceConfig.build(trust=["no-equals-sign"])
    with pytest.raises(ConfigError, match="twice"):
        ServiceConfig.build(trust=["https://a=x.json", "https://a=y.json"])
    with pytest.raises(ConfigError, match="http"):
        ServiceConfig.build(base_url="ftp://x")
    with pytest.raises(ConfigError, match="90 printable"):
        ServiceConfig.build(trust=["https://" + "a" * 100 + "=x.json"])
    assert Limits().max_jti > 0


# --- the order catalogue -----------------------------------------------------------------------


def _mini(tmp_path: Path, catalogue: str | None = EXCHANGE_ORDER) -> Path:
    folder = tmp_path / "mini"
    folder.mkdir()
    (folder / "mini.rules").write_text(MINI, encoding="utf-8")
    if catalogue is not None:
        (folder / "cds-orders.toml").write_text(catalogue, encoding="utf-8")
    return folder


def test_the_bundled_catalogue_loads_and_every_code_names_its_source() -> None:
    folder = bundled_policy_dir()
    policy = check_paths([folder]).policy
    assert policy is not None
    catalogue = load_catalogue(policy, folder)
    assert {o.rule for o in catalogue.orders} == {"adem.ivig", "adem.plasma_exchange"}
    for order in catalogue.orders:
        for code in order.codes:
            assert code.source.startswith("http") and code.display
    ivig = {"resourceType": "MedicationRequest", "medicationCodeableConcept": {"coding": []}}
    for system in (HCPCS, HCPCS.replace("http://", "https://")):
        ivig["medicationCodeableConcept"] = {"coding": [{"system": system, "code": "J1459"}]}
        assert catalogue.rules_for(ivig) == ["adem.ivig"]
    ivig["resourceType"] = "ServiceRequest"  # the code of a drug, in a procedure order
    assert catalogue.rules_for(ivig) == []


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ('rule = "mini.exchange"', 'rule = "mini.nothing"', "no recommendation"),
        ('resource = "ServiceRequest"', 'resource = "Procedure"', "not one of"),
        ('code = "36514"', 'code = "3651"', "malformed"),
        ('system = "cpt"', 'system = "cpt4"', "is not"),
        (
            'source = "https://genhealth.ai/code/cpt4/36514-therapeutic-apheresis-for-plasma-pheresis"',
            'source = " "',
            "empty field",
        ),
        ("[[order.code]]", "[[order.codes]]", "each [[order]]"),
    ],
)
def test_a_wrong_catalogue_stops_the_start(
    tmp_path: Path, replace: str, by: str, message: str
) -> None:
    folder = _mini(tmp_path, EXCHANGE_ORDER.replace(replace, by))
    policy = check_paths([folder]).policy
    assert policy is not None
    with pytest.raises(CatalogueError, match=re.escape(message)):
        load_catalogue(policy, folder)


# --- prefetch templates -----------------------------------------------------------------------


def test_templates_follow_the_policys_bindings(tmp_path: Path) -> None:
    (service,) = load_services([_mini(tmp_path)])
    keys = {t.key: t.query for t in service.templates}
    assert keys == {
        "patient": "Patient/{{context.patientId}}",
        "conditions": "Condition?patient={{context.patientId}}"
        "&code=http://hl7.org/fhir/sid/icd-10-cm|G04.01",
    }
    missing = missing_keys(service.templates, {"patient": None})
    assert [t.key for t in missing] == ["conditions"]
    assert [t.key for t in missing_keys(service.templates, {"conditions": None})] == ["patient"]
    assert missing_keys(service.templates, {"conditions": None, "patient": None}) == []


# --- cards -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strength", "indicator"),
    [
        ("crucial", "critical"),
        ("first_line", "warning"),
        ("primary", "warning"),
        ("recommended", "warning"),
        ("suggested", "info"),
        ("may_be_considered", "info"),
        ("may_help", "info"),
        ("unqualified", "info"),
    ],
)
def test_indicator_from_strength(strength: str, indicator: str) -> None:
    assert indicator_of(strength) == indicator


def test_long_summaries_are_cut_below_140_and_markup_is_escaped(tmp_path: Path) -> None:
    (service,) = load_services([_mini(tmp_path)])
    evaluation = service.compiled.evaluate({"diagnosis": "adem"})
    entry = evaluation.recommendations[0]
    long_action = "Give <script>alert(1)</script> " + "very " * 60 + "much"
    shown = r.Recommendation(
        rule=entry.rule,
        statement="A *statement* with [a link](javascript:x) and <b>html</b>",
        evidence=entry.evidence,
        section=entry.section,
        because=entry.because,
        chain=entry.chain,
        action=long_action,
        strength=entry.strength,
        alternatives=(),
        line=1,
        after=(),
    )
    context = CardContext(service.compiled.policy, evaluation, {}, None)
    card = recommendation_card(shown, context)
    assert len(card.summary) < 140 and card.summary.endswith("…")
    assert "\n" not in card.summary
    assert "<b>" not in (card.detail or "") and "\\<b\\>" in (card.detail or "")
    assert "\\[a link\\]" in (card.detail or "")
    assert card.links is None
    assert one_line("a\nb\tc") == "a b c"


# --- one hook call, start to end --------------------------------------------------------------


def _condition(patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": f"Patient/{patient}"},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G04.01"}]},
    }


def _call(service: PolicyService, request: dict[str, Any]) -> Call:
    parsed = CdsRequest.model_validate(request)
    context_type = OrderSelectContext if parsed.hook == "order-select" else PatientViewContext
    context = context_type.model_validate(parsed.context)
    data = {k: (v, json.dumps(v)) for k, v in (parsed.prefetch or {}).items()}
    return Call(parsed, context, data, "tester", datetime.date(2025, 1, 20))


def test_order_select_says_when_the_sequence_is_satisfied(tmp_path: Path) -> None:
    (service,) = load_services([_mini(tmp_path)])
    assert service.hooks == ("patient-view", "order-select")
    prefetch = {
        "patient": {"resourceType": "Patient", "id": "p1"},
        "conditions": {"resourceType": "Bundle", "entry": [{"resource": _condition("p1")}]},
    }
    order = {
        "resourceType": "ServiceRequest",
        "id": "o1",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "36514"}]},
    }
    request = hook_request("p1", prefetch, "order-select")
    request["context"].update(
        selections=["ServiceRequest/o1"],
        draftOrders={"resourceType": "Bundle", "entry": [{"resource": order}]},
    )
    decision = decide(service, _call(service, request), "http://svc/reports", log=True)
    (card,) = decision.cards
    assert card.summary == "Exchange: the patient's facts satisfy the guideline's sequence"
    assert card.indicator == "info"
    detail = card.detail or ""
    assert detail.index("Steroids come first") < detail.index("Exchange comes after steroids")
    assert detail.count("**satisfied**") == 2
    assert decision.log is not None and decision.log.user == "tester"
    assert decision.log.case == request["hookInstance"]
    # patient-view of the same record: both recommendations, first-line first
    view = hook_request("p1", prefetch)
    cards = decide(service, _call(service, view), "http://svc/reports", log=False).cards
    assert [c.summary for c in cards] == ["Steroids (first-line)", "Exchange (recommended)"]
    assert cards[1].detail and "after `mini.steroids`" in cards[1].detail


def test_a_policy_without_a_catalogue_answers_patient_view_only(tmp_path: Path) -> None:
    (service,) = load_services([_mini(tmp_path, catalogue=None)])
    assert service.hooks == ("patient-view",)
    assert [d.hook for d in service.descriptions()] == ["patient-view"]


def test_two_policies_with_one_id_cannot_be_served(tmp_path: Path) -> None:
    from leukorules.service.app import SetupError

    first = _mini(tmp_path)
    second = tmp_path / "copy"
    second.mkdir()
    (second / "mini.rules").write_text(MINI, encoding="utf-8")
    with pytest.raises(SetupError, match="two policies have the id 'mini'"):
        load_services([first, second])
    compiled = compile_policy(check_paths([first]).policy)  # type: ignore[arg-type]
    assert compiled.policy.id == "mini"


# --- the decision log writer ---------------------------------------------------------------------


def test_the_writer_logs_every_decision_of_concurrent_submitters(tmp_path: Path) -> None:
    import threading

    from leukorules.audit import collect_sources, new_decision, open_log
    from leukorules.audit.verify import verify_log
    from leukorules.service.decisions import DecisionWriter

    (service,) = load_services([_mini(tmp_path)])
    evaluation = service.compiled.evaluate({"diagnosis": "adem"})
    collected = collect_sources(evaluation, service.compiled.sources)
    writer = DecisionWriter(tmp_path / "decisions.db")
    writer.start()
    futures = []
    lock = threading.Lock()

    def submit(worker: int) -> None:
        for i in range(25):
            decision = new_decision(
                evaluation,
                {"diagnosis": "adem"},
                None,
                f"user-{worker}",
                f"case-{worker}-{i}",
                collected=collected,
            )
            with lock:
                futures.append(writer.submit(decision))

    threads = [threading.Thread(target=submit, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = [future.result(timeout=60) for future in futures]
    writer.close()
    assert sorted(row.seq for row in rows) == list(range(1, 201))
    assert verify_log(tmp_path / "decisions.db").ok
    with open_log(tmp_path / "decisions.db") as log:
        assert {row.case for row in log.rows()} == {
            f"case-{w}-{i}" for w in range(8) for i in range(25)
        }
    closed = writer.submit(new_decision(evaluation, {}, None, collected=collected))
    with pytest.raises(Exception, match="closed"):
        closed.result(timeout=5)


def test_the_decisions_of_one_event_loop_turn_are_committed_together(tmp_path: Path) -> None:
    """`log` from the event loop: the calls of one turn share one transaction, each gets its
    own row in the order it asked; a call cancelled before the turn ends is left out."""
    import asyncio

    from leukorules.audit import collect_sources, new_decision, open_log
    from leukorules.audit.verify import verify_log
    from leukorules.service.decisions import DecisionWriter

    (service,) = load_services([_mini(tmp_path)])
    evaluation = service.compiled.evaluate({"diagnosis": "adem"})
    collected = collect_sources(evaluation, service.compiled.sources)
    writer = DecisionWriter(tmp_path / "decisions.db")
    writer.start()
    groups: list[int] = []
    append = writer._append

    def counting_append(appender: Any, group: Any) -> None:
        groups.append(sum(len(decisions) for decisions, _ in group))
        append(appender, group)

    writer._append = counting_append  # type: ignore[method-assign]

    def decision(case: str) -> Any:
        return new_decision(evaluation, {"diagnosis": "adem"}, None, "u", case, collected=collected)

    async def turn() -> list[Any]:
        calls = [asyncio.ensure_future(writer.log(decision(f"case-{i}"))) for i in range(6)]
        await asyncio.sleep(0)  # each call has gathered its decision; the turn ends after
        calls[2].cancel()
        done = await asyncio.gather(*calls, return_exceptions=True)
        return list(done)

    done = asyncio.run(turn())
    writer.close()
    assert isinstance(done[2], asyncio.CancelledError)
    rows = [row for i, row in enumerate(done) if i != 2]
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    assert [row.case for row in rows] == ["case-0", "case-1", "case-3", "case-4", "case-5"]
    assert groups == [5]
    assert verify_log(tmp_path / "decisions.db").ok
    with open_log(tmp_path / "decisions.db") as log:
        assert [row.case for row in log.rows()] == [row.case for row in rows]


def test_serve_settles_the_start_up_heap_before_serving() -> None:
    """The start-up heap is frozen (no collection walks it again) and young collections wait
    for 10,000 new objects, so a call is not paused by a collection that is not its own."""
    import gc

    from leukorules.cli.serve import settle_heap

    threshold = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (10_000, 10, 10)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
