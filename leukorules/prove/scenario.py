"""Patients found by a proof, written as scenario files `leukorules test` runs.

Input: a patient (input facts), the outcomes the policy gives it and a name and description.
Output: YAML text of a one-scenario file (`leukorules.authoring.scenarios` describes the
format): the facts, and under `expect` the outcome of each rule listed and the derived values,
so the file passes as long as the policy decides this patient this way. Values are written as
facts files write them: dates `YYYY-MM-DD`, sets as sorted lists, whole numbers without `.0`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

import yaml

from leukorules import model as m


def plain(value: object) -> object:
    """A fact value as YAML writes it in a facts or scenario file."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def scenario_yaml(
    name: str,
    description: str,
    facts: Mapping[str, m.Value],
    outcomes: Sequence[tuple[str, m.OutcomeName]],
    derived: Mapping[str, m.Value | None] | None = None,
) -> str:
    """One scenario: `facts`, and the expected `outcomes` (rule, outcome) and `derived` values."""
    expect: dict[str, object] = {}
    for outcome in m.OUTCOME_NAMES:
        rules = [rule for rule, found in outcomes if found == outcome]
        if rules:
            expect[outcome] = rules
    if derived:
        expect["derived"] = {n: plain(v) for n, v in derived.items()}
    document = [
        {
            "name": name,
            "description": description,
            "facts": {k: plain(v) for k, v in facts.items()},
            "expect": expect,
        }
    ]
    return yaml.safe_dump(
        document, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )
