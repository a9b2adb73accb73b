"""`leukorules prove` results as text for people and as JSON for CI.

Input: the policy and its `PropertyResult`s (`leukorules.prove.properties`). Output: text (one
line per property, then each counterexample as a scenario file, ready to save and run with
`leukorules test`) or a JSON document: the policy, and for each property its verdict and, when
it fails, the counterexample's facts, outcomes, derived values, truth and scenario text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from leukorules import model as m
from leukorules.prove.properties import PropertyResult
from leukorules.prove.scenario import plain


def _verdict(result: PropertyResult) -> str:
    if not result.holds:
        return "FAILS"
    return "holds (vacuously)" if result.vacuous else "holds"


def render_text(policy: m.Policy, results: Sequence[PropertyResult], seconds: float) -> str:
    failing = [r for r in results if not r.holds]
    method = results[0].method if results else "solver"
    by = "the solver" if method == "solver" else "enumerating every representative patient"
    lines = [
        f"{policy.id} {policy.version}: {len(results)} "
        f"{'property' if len(results) == 1 else 'properties'} checked for every patient by {by} "
        f"in {seconds:.1f} s: {len(results) - len(failing)} hold, {len(failing)} "
        f"{'fails' if len(failing) == 1 else 'fail'}",
        "",
    ]
    width = max((len(_verdict(r)) for r in results), default=5)
    for result in results:
        lines.append(f"  {_verdict(result):<{width}}  {result.prop.id}: {result.prop.text}")
        if result.vacuous:
            lines.append(
                f"  {'':<{width}}  no patient the constraints admit makes its premise true"
            )
    for result in failing:
        example = result.counterexample
        assert example is not None
        truth = "false" if example.truth is False else "unknown"
        lines += [
            "",
            f"# {result.prop.id} fails: its claim is {truth} for this patient. Saved as a",
            "# .yaml file, this is a scenario `leukorules test --policy POLICY FILE` runs.",
            example.scenario(result.prop).rstrip("\n"),
        ]
    return "\n".join(lines) + "\n"


def render_json(policy: m.Policy, results: Sequence[PropertyResult], seconds: float) -> str:
    properties: list[dict[str, object]] = []
    for result in results:
        example = result.counterexample
        found: dict[str, object] | None = None
        if example is not None:
            found = {
                "facts": {k: plain(v) for k, v in example.facts.items()},
                "outcomes": dict(example.outcomes),
                "derived": {k: plain(v) for k, v in example.derived.items()},
                "truth": "false" if example.truth is False else "unknown",
                "scenario": example.scenario(result.prop),
            }
        properties.append(
            {
                "id": result.prop.id,
                "text": result.prop.text,
                "holds": result.holds,
                "vacuous": result.vacuous,
                "method": result.method,
                "counterexample": found,
            }
        )
    document = {
        "policy": {"id": policy.id, "version": policy.version, "sha256": policy.sha256},
        "holds": sum(1 for r in results if r.holds),
        "fails": sum(1 for r in results if not r.holds),
        "seconds": round(seconds, 3),
        "properties": properties,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
