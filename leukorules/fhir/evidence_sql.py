"""The evidence rules of `leukorules.fhir.evidence`, written in SQL: the steps of the duckdb
engine's query over a FHIR Bulk Data export that turn each read resource into evidence.

Input: the names of the relations `leukorules.fhir.bulk_sql` builds before these steps
(`lr_own`, `lr_target`, the binding tables) and the evaluation date. Output: SQL text, one
common table expression per step, each the SQL twin of a method of `evidence.Reader`:
`conditions` (which Conditions are read and how their statuses count, and each dueTo that names
a drug), `condition_evidence`, `hosted` and `cause_evidence` (the drug a diagnosis is due to),
`exposure_evidence` (whether that drug is still taken), `observations` (yes/no answers). Each
evidence row is (patient, fact, value as text or NULL, the source's label). Pure: text in,
text out; a differential test holds these steps and `evidence.Reader` to the same facts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from leukorules.codesystems import SYSTEM_NAMES
from leukorules.fhir.bindings import (
    CLINICAL_STATUS,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    DUE_TO,
    MEDICATION_REQUEST_STATUS,
    MEDICATION_STATEMENT_STATUS,
    OBSERVATION_STATUS,
    VERIFICATION_STATUS,
    Bindings,
    Counts,
)

Step = tuple[str, str]


def sql_string(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def values_table(
    rows: Sequence[Sequence[object]], columns: Sequence[str], types: Sequence[str]
) -> str:
    """A VALUES relation (typed, and never empty: a NULL row where there is none)."""

    def literal(value: object, kind: str) -> str:
        if value is None:
            return f"NULL::{kind}"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return str(value)
        return f"{sql_string(str(value))}::{kind}"

    body = [
        "(" + ", ".join(literal(v, k) for v, k in zip(row, types, strict=True)) + ")"
        for row in rows
    ] or ["(" + ", ".join(f"NULL::{k}" for k in types) + ")"]
    return f"(VALUES {', '.join(body)}) AS v({', '.join(columns)})"


def _counts(expression: str, table: Mapping[str, Counts]) -> str:
    """How a status code counts: YES, PAST, NO, UNSURE, IGNORED; BAD for a code outside the
    table; NULL when there is none."""
    cases = " ".join(
        f"WHEN {sql_string(code)} THEN {sql_string(counts.name)}" for code, counts in table.items()
    )
    return (
        f"CASE WHEN {expression} IS NULL THEN NULL "
        f"ELSE CASE {expression} {cases} ELSE 'BAD' END END"
    )


# The members of a resource the evidence rules read. Each line is parsed once, into a struct
# of these members as JSON (`from_json`); every later step reads a small member, not the line.
MEMBERS = (
    "resourceType",
    "id",
    "subject",
    "patient",
    "code",
    "clinicalStatus",
    "verificationStatus",
    "recordedDate",
    "onsetDateTime",
    "extension",
    "status",
    "effectiveDateTime",
    "effectiveInstant",
    "effectivePeriod",
    "valueBoolean",
    "medicationCodeableConcept",
    "medicationReference",
)
STRUCTURE = "{" + ", ".join(f'"{member}": "JSON"' for member in MEMBERS) + "}"


def at(row: str, path: str) -> tuple[str, str]:
    """A JSON path into a resource (`row`: its struct of members) as (member, path within)."""
    head, _, rest = path.removeprefix("$.").partition(".")
    assert head in MEMBERS, f"{head} is not a member the query reads"
    return f"{row}.{head}", f"$.{rest}" if rest else "$"


def _codings(json_path: str, row: str = "j", resource: bool = True) -> str:
    """The well-shaped codings (object, string system and code) of a CodeableConcept: a
    member of a resource, or (`resource=False`) at a path in a JSON value."""
    base, path = at(row, json_path) if resource else (row, json_path)
    inner = "$.coding[*]" if path == "$" else f"{path}.coding[*]"
    return (
        f"list_filter(coalesce(json_extract({base}, '{inner}'), []::JSON[]), "
        "lambda c: json_type(c, '$.system') = 'VARCHAR' AND json_type(c, '$.code') = 'VARCHAR')"
    )


def _text(json_path: str, row: str = "j") -> str:
    """A string member, NULL when absent, not a string, or empty (as Python's `or` reads it)."""
    base, path = at(row, json_path)
    return (
        f"CASE WHEN json_type({base}, '{path}') = 'VARCHAR' "
        f"THEN nullif({base} ->> '{path}', '') END"
    )


def _system_name(expression: str) -> str:
    cases = " ".join(
        f"WHEN {sql_string(uri)} THEN {sql_string(name)}" for uri, name in SYSTEM_NAMES.items()
    )
    return f"CASE {expression} {cases} ELSE {expression} END"


def _label(name: str, coding: str) -> str:
    """`Type/id (SYSTEM code)`: `leukorules.fhir.provenance.Source.label` in SQL."""
    system = _system_name(f"({coding} ->> '$.system')")
    return (
        f"{name} || CASE WHEN {coding} IS NULL THEN '' "
        f"ELSE ' (' || {system} || ' ' || ({coding} ->> '$.code') || ')' END"
    )


def _date(expression: str) -> str:
    """`evidence._date`: the first ten characters of a date or dateTime, as a DATE."""
    return (
        f"CASE WHEN length({expression}) >= 10 "
        f"THEN try_cast(substr({expression}, 1, 10) AS DATE) END"
    )


def filled_message(template: str, **fields: str) -> str:
    """A message template with its fields filled by SQL expressions: the text the python
    engine writes, built by SQL string concatenation."""
    markers = {name: f"\x00{index}\x00" for index, name in enumerate(fields)}
    text = template.format(**markers)
    parts = re.split("\x00([0-9]+)\x00", text)
    names = list(fields)
    pieces = []
    for index, part in enumerate(parts):
        if index % 2:
            pieces.append(f"({fields[names[int(part)]]})")
        elif part:
            pieces.append(sql_string(part))
    return " || ".join(pieces)


_SPEAKS = "v IS DISTINCT FROM 'IGNORED' AND v IS DISTINCT FROM 'BAD' AND c IS DISTINCT FROM 'BAD'"


def conditions(bindings: Bindings) -> list[Step]:
    """The Conditions a binding reads (`lr_cond`: their codings and how their statuses count),
    the codings of those whose statuses let them speak (`lr_cond_codes`), and each dueTo that
    names a drug (`lr_due`: its drug codings, and the resource it references)."""
    read = sorted({*bindings.conditions, *bindings.host_codes})
    verification = _counts("v_code", VERIFICATION_STATUS)
    clinical = _counts("c_code", CLINICAL_STATUS)
    v_system, c_system = sql_string(CONDITION_VERIFICATION), sql_string(CONDITION_CLINICAL)
    conditions = f"""MATERIALIZED (
  SELECT *, {verification} AS v, {clinical} AS c
  FROM (
    SELECT key, patient, name, j, abated, codes,
      list_position(list_transform(v_list, lambda x: x ->> '$.system'), {v_system}) AS v_pos,
      CASE WHEN v_pos > 0 THEN v_list[v_pos] ->> '$.code' END AS v_code,
      list_position(list_transform(c_list, lambda x: x ->> '$.system'), {c_system}) AS c_pos,
      CASE WHEN c_pos > 0 THEN c_list[c_pos] ->> '$.code' END AS c_code
    FROM (
      SELECT *, {_codings("$.verificationStatus")} AS v_list,
        {_codings("$.clinicalStatus")} AS c_list
      FROM (
        SELECT key, patient, name, j, abated, {_codings("$.code")} AS codes
        FROM lr_own WHERE rtype = 'Condition' AND patient IS NOT NULL
      )
      WHERE {_holds_any("codes", read)}
    )
  )
)"""
    codes = f"""MATERIALIZED (
  SELECT key, patient, name, v, c, abated,
    unnest(codes) AS x, generate_subscripts(codes, 1) AS pos
  FROM lr_cond WHERE {_SPEAKS}
)"""
    extensions = (
        "list_filter(coalesce(json_extract(j.extension, '$[*]'), []::JSON[]), lambda x: "
        f"json_type(x) = 'OBJECT' AND (x ->> '$.url') = {sql_string(DUE_TO)})"
    )
    drug_systems = ", ".join(sql_string(s) for s in sorted(bindings.drug_systems))
    due = f"""MATERIALIZED (
  SELECT * FROM (
    SELECT e.cond, e.pos, tg.key AS target_key, tg.rtype AS target_type,
      tg.name AS target_name,
      CASE
        WHEN tg.key IS NULL THEN {_codings("$.valueCodeableConcept", "e.ext", False)}
        WHEN tg.rtype = 'Medication' THEN {_codings("$.code", "tg.j")}
        ELSE list_concat({_codings("$.medicationCodeableConcept", "tg.j")},
                         coalesce({_codings("$.code", "med.j")}, []::JSON[]))
      END AS drugs
    FROM (
      SELECT key AS cond, patient, ext, pos,
        CASE WHEN json_type(ext, '$.valueReference.reference') = 'VARCHAR'
          THEN ext ->> '$.valueReference.reference' END AS ref
      FROM (
        SELECT key, patient, unnest({extensions}) AS ext,
          generate_subscripts({extensions}, 1) AS pos
        FROM lr_cond WHERE {_SPEAKS}
      )
    ) AS e
    LEFT JOIN lr_target AS tg ON e.ref IS NOT NULL AND tg.ref = {_reference_key("e.ref")}
      AND (tg.patient = e.patient OR tg.rtype = 'Medication')
    LEFT JOIN lr_target AS med ON tg.key IS NOT NULL
      AND json_type(tg.j.medicationReference, '$.reference') = 'VARCHAR'
      AND med.ref = {_reference_key("(tg.j.medicationReference ->> '$.reference')")}
      AND (med.patient = e.patient OR med.rtype = 'Medication')
  )
  WHERE list_bool_or(list_transform(drugs, lambda x: (x ->> '$.system') IN ({drug_systems})))
)"""
    return [("lr_cond", conditions), ("lr_cond_codes", codes), ("lr_due", due)]


def _holds_any(codings: str, read: Sequence[tuple[str, str]]) -> str:
    """Whether a list of codings holds one of the (system, code) pairs `read` (a literal list:
    a vectorised test instead of a join per resource)."""
    pairs = ", ".join(sql_string(f"{system}|{code}") for system, code in read) or "NULL"
    keys = f"list_transform({codings}, lambda c: (c ->> '$.system') || '|' || (c ->> '$.code'))"
    return f"list_has_any({keys}, [{pairs}]::VARCHAR[])"


def _reference_key(reference: str) -> str:
    """`evidence.Index.resolve` in SQL: `Type/id`, from the last two parts of a reference."""
    last_two = f"array_to_string(list_slice(str_split(rtrim({reference}, '/'), '/'), -2, -1), '/')"
    return f"CASE WHEN contains({reference}, '/') THEN {last_two} ELSE {reference} END"


def condition_evidence() -> str:
    """What each coding of a Condition gives each fact bound to it (`Reader._condition`)."""
    return f"""(
  SELECT cc.patient, b.fact,
    CASE
      WHEN b.needs_drug AND caused.cond IS NULL THEN NULL
      WHEN cc.v = 'NO' THEN b.refuted
      WHEN cc.v = 'UNSURE' THEN NULL
      WHEN cc.c = 'YES'
        THEN CASE WHEN cc.abated AND b.persistence = 'current' THEN NULL ELSE b.val END
      WHEN b.persistence = 'lasting' THEN b.val
      ELSE NULL
    END AS val,
    {_label("cc.name", "cc.x")} AS label
  FROM lr_cond_codes AS cc
  JOIN lr_cond_bind AS b ON b.system = cc.x ->> '$.system' AND b.code = cc.x ->> '$.code'
  LEFT JOIN (SELECT DISTINCT cond FROM lr_due) AS caused ON caused.cond = cc.key
)"""


def hosted() -> str:
    """The first host coding of each Condition that hosts a cause (not refuted)."""
    return """(
  SELECT cc.key, cc.patient, cc.name, cc.x AS host
  FROM lr_cond_codes AS cc
  JOIN (
    SELECT c2.key, min(c2.pos) AS pos FROM lr_cond_codes AS c2
    JOIN (SELECT DISTINCT system, code FROM lr_host) AS h
      ON h.system = c2.x ->> '$.system' AND h.code = c2.x ->> '$.code'
    WHERE c2.v IS DISTINCT FROM 'NO' GROUP BY c2.key
  ) AS f ON f.key = cc.key AND f.pos = cc.pos
)"""


def _host_join(kind: str) -> str:
    return (
        f"JOIN lr_host AS hb ON hb.kind = '{kind}' "
        "AND hb.system = h.host ->> '$.system' AND hb.code = h.host ->> '$.code'"
    )


def cause_evidence() -> str:
    """The drug each dueTo names (`Reader._causes`, `_drug_value`): the first drug line whose
    value set holds one of its codes, else `any SYSTEM drug`, else nothing."""
    codings = "(SELECT unnest(d.drugs) AS x, generate_subscripts(d.drugs, 1) AS i) AS dd"
    return f"""(
  SELECT h.patient, ca.fact, m.found.val AS val,
    CASE WHEN d.target_key IS NULL THEN {_label("h.name", "m.found.coding")}
         ELSE {_label("d.target_name", "m.found.coding")} END AS label
  FROM lr_hosted AS h
  {_host_join("cause")}
  JOIN lr_cause AS ca ON ca.binding = hb.binding
  JOIN lr_due AS d ON d.cond = h.key
  CROSS JOIN LATERAL (
    SELECT coalesce(
      (SELECT {{'val': dr.val, 'coding': dd.x}} FROM lr_drug AS dr, {codings}
       WHERE dr.binding = ca.binding
         AND dr.system = dd.x ->> '$.system' AND dr.code = dd.x ->> '$.code'
       ORDER BY dr.rank, dd.i LIMIT 1),
      (SELECT {{'val': ca.other_value, 'coding': dd.x}} FROM {codings}
       WHERE (dd.x ->> '$.system') = ca.other_system ORDER BY dd.i LIMIT 1),
      {{'val': NULL::VARCHAR, 'coding': d.drugs[1]}}
    ) AS found
  ) AS m
)"""


def exposure_evidence(day: str) -> str:
    """Whether the medication a dueTo references is still taken (`Reader._taken_now`)."""
    statement = _counts("t.status", MEDICATION_STATEMENT_STATUS)
    request = _counts("t.status", MEDICATION_REQUEST_STATUS)
    return f"""(
  SELECT h.patient, ex.fact,
    CASE
      WHEN st.counts = 'NO' THEN 'false'
      WHEN st.counts = 'YES' AND NOT coalesce(st.ended < {day}, false) THEN 'true'
    END AS val,
    {_label("d.target_name", "d.drugs[1]")} AS label
  FROM lr_hosted AS h
  {_host_join("exposure")}
  JOIN lr_exposure AS ex ON ex.binding = hb.binding
  JOIN lr_due AS d ON d.cond = h.key AND d.target_key IS NOT NULL
    AND d.target_type <> 'Medication'
  JOIN (
    SELECT t.key,
      CASE WHEN t.status IS NULL THEN NULL
           WHEN t.rtype = 'MedicationStatement' THEN {statement}
           ELSE {request} END AS counts,
      {_date(_text("$.effectivePeriod.end", "t.j"))} AS ended
    FROM (SELECT key, rtype, j, CASE WHEN json_type(j.status) = 'VARCHAR'
            THEN j.status ->> '$' END AS status FROM lr_own) AS t
  ) AS st ON st.key = d.target_key
)"""


def observations(bindings: Bindings, day: str) -> list[Step]:
    """The Observations a binding reads (`lr_obs`) and their yes/no answers
    (`Reader._observation`)."""
    counts = _counts("status", OBSERVATION_STATUS)
    effective = (
        f"coalesce({_text('$.effectiveDateTime')}, {_text('$.effectiveInstant')}, "
        "CASE WHEN json_type(j.effectivePeriod) = 'OBJECT' THEN "
        f"coalesce({_text('$.effectivePeriod.end')}, {_text('$.effectivePeriod.start')}) END)"
    )
    observations = f"""MATERIALIZED (
  SELECT key, patient, name, j, codes, status, raw_status, {counts} AS counts,
    {_date("eff")} AS day
  FROM (
    SELECT key, patient, name, j, {_codings("$.code")} AS codes,
      CASE WHEN json_type(j.status) = 'VARCHAR' THEN j.status ->> '$' END AS status,
      coalesce(j.status ->> '$', 'None') AS raw_status,
      {effective} AS eff
    FROM lr_own WHERE rtype = 'Observation' AND patient IS NOT NULL
  )
  WHERE {_holds_any("codes", sorted(bindings.observations))}
)"""
    evidence = f"""(
  SELECT o.patient, b.fact,
    CASE
      WHEN o.counts = 'UNSURE' THEN NULL
      WHEN json_type(o.j.valueBoolean) IS DISTINCT FROM 'BOOLEAN' THEN NULL
      WHEN o.day IS NULL OR o.day > {day} OR {day} - o.day > b.days THEN NULL
      WHEN (o.j.valueBoolean ->> '$') = 'true' THEN 'true' ELSE 'false'
    END AS val,
    {_label("o.name", "o.x")} AS label
  FROM (SELECT *, unnest(codes) AS x FROM lr_obs WHERE counts IN ('YES', 'UNSURE')) AS o
  JOIN lr_answer_bind AS b ON b.system = o.x ->> '$.system' AND b.code = o.x ->> '$.code'
)"""
    return [("lr_obs", observations), ("lr_obs_evidence", evidence)]
