"""A FHIR Bulk Data export folder -> one row of facts per patient, compiled to DuckDB SQL over
the NDJSON files: the duckdb engine's reading of a cohort's health records.

Input: the export's files (`bulk.export_files`), a policy's `Bindings` and the evaluation date.
Output: `mapping_query`, the SQL text (pure: the same input gives the same bytes), and
`BulkSQL`, which runs it in DuckDB (which reads NDJSON natively) and yields `PatientFacts` in
patient id order, as `leukorules.fhir.bulk` does, plus the same `FolderProblems`.

The query is generated from the bindings, so the evidence rules are those of
`leukorules.fhir.evidence`, written once more in SQL, and a differential test holds the two to
the same rows: the status tables of `leukorules.fhir.bindings` become CASE expressions, the
value sets literal lists and VALUES relations of (system, code), a disagreement names the same
two sources with the same message (sources ordered by label), and a status code outside FHIR's
value set rejects the patient with the same message. Each NDJSON line is parsed once, into a
struct of the members the rules read (`evidence_sql.MEMBERS`). What only the python engine
does: validate each resource against the fhir.resources models (LR520 for a malformed
resource). A valid export gives both engines the same rows; an invalid resource rejects its
patient on the python engine and is read as far as it can be here.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from leukorules import messages as msg
from leukorules import terminology as t
from leukorules.fhir.bindings import CONDITION_CLINICAL, CONDITION_VERIFICATION, Bindings
from leukorules.fhir.bulk import (
    NO_PATIENT,
    NOT_A_RESOURCE,
    NOT_JSON,
    READ_TYPES,
    SHARED_TYPES,
    FolderProblems,
    PatientFacts,
)
from leukorules.fhir.evidence_sql import (
    STRUCTURE,
    Step,
    cause_evidence,
    condition_evidence,
    conditions,
    exposure_evidence,
    filled_message,
    hosted,
    observations,
    sql_string,
    values_table,
)

OBSERVATION_STATUS_SYSTEM = "http://hl7.org/fhir/observation-status"
BATCH_ROWS = 10_000


def mapping_query(
    files: Sequence[Path], bindings: Bindings, as_of: datetime.date, facts: Mapping[str, str]
) -> str:
    """The SQL that reads an export's files and returns one row per patient, in patient id
    order: `patient`, `line` (the patient's facts as a JSON Lines cohort record, NULL when
    rejected), `codes` and `reasons` (the problems that reject it; empty lists when none).
    `facts`: the kind (`bool` or `enum`) of every bound fact."""
    day = f"DATE '{as_of.isoformat()}'"
    steps = [
        *_binding_tables(bindings, facts),
        *_resources(files),
        *conditions(bindings),
        ("lr_cond_evidence", condition_evidence()),
        ("lr_hosted", hosted()),
        ("lr_cause_evidence", cause_evidence()),
        ("lr_exposure_evidence", exposure_evidence(day)),
        *observations(bindings, day),
        *_decisions(),
    ]
    body = ",\n".join(f"{name} AS {body.strip()}" for name, body in steps)
    return f"WITH {body}\n{_output()}"


def _binding_tables(bindings: Bindings, facts: Mapping[str, str]) -> list[Step]:
    """The policy's bindings as VALUES relations joined on (system, code)."""
    conditions = [
        (
            system,
            code,
            b.fact,
            _value_text(b.value),
            b.persistence,
            None if b.refuted is None else _value_text(b.refuted),
            b.needs_drug_cause,
        )
        for (system, code), found in bindings.conditions.items()
        for b in found
    ]
    answers = [
        (system, code, b.fact, b.within_days)
        for (system, code), found in bindings.observations.items()
        for b in found
    ]
    hosts: list[tuple[object, ...]] = []
    drugs: list[tuple[object, ...]] = []
    causes: list[tuple[object, ...]] = []
    for number, cause in enumerate(bindings.causes):
        other_system, other_value = cause.other if cause.other is not None else (None, None)
        causes.append((number, cause.fact, other_system, other_value))
        hosts += [(number, "cause", c.system, c.code) for vs in cause.hosts for c in vs.concepts]
        for rank, (value_set, value) in enumerate(cause.drugs):
            drugs += [(number, rank, c.system, c.code, value) for c in value_set.concepts]
    exposures: list[tuple[object, ...]] = []
    for number, exposure in enumerate(bindings.exposures):
        exposures.append((number, exposure.fact))
        hosts += [
            (number, "exposure", c.system, c.code) for vs in exposure.hosts for c in vs.concepts
        ]
    text, integer, flag = "VARCHAR", "INTEGER", "BOOLEAN"
    tables: list[tuple[str, Sequence[Sequence[object]], list[str], list[str]]] = [
        (
            "lr_cond_bind",
            conditions,
            ["system", "code", "fact", "val", "persistence", "refuted", "needs_drug"],
            [text] * 6 + [flag],
        ),
        ("lr_answer_bind", answers, ["system", "code", "fact", "days"], [text] * 3 + [integer]),
        ("lr_host", hosts, ["binding", "kind", "system", "code"], [integer] + [text] * 3),
        (
            "lr_drug",
            drugs,
            ["binding", "rank", "system", "code", "val"],
            [integer, integer, text, text, text],
        ),
        (
            "lr_cause",
            causes,
            ["binding", "fact", "other_system", "other_value"],
            [integer, text, text, text],
        ),
        ("lr_exposure", exposures, ["binding", "fact"], [integer, text]),
        ("lr_fact", list(facts.items()), ["fact", "kind"], [text, text]),
    ]
    # A table without rows is one row of NULLs, dropped by the WHERE.
    found: list[Step] = []
    for name, rows, columns, types in tables:
        relation = values_table(rows, columns, types)
        found.append((name, f"(SELECT * FROM {relation} WHERE {columns[1]} IS NOT NULL)"))
    return found


def _resources(files: Sequence[Path]) -> list[Step]:
    """Every resource of a type that is read (`lr_res`), with its patient (`lr_own`), the
    patients, and what a reference can name: the patient's own resources and the shared
    Medications (`lr_target`)."""
    paths = "[" + ", ".join(sql_string(str(path)) for path in files) + "]"
    read = ", ".join(sql_string(kind) for kind in sorted(READ_TYPES | SHARED_TYPES))
    resources = f"""MATERIALIZED (
  SELECT row_number() OVER () AS key, j, rtype,
    CASE WHEN json_type(j.id) = 'VARCHAR' THEN j.id ->> '$' END AS rid,
    CASE WHEN rtype = 'Condition'
      THEN list_has_any(json_keys(raw), ['abatementDateTime', 'abatementPeriod']) END AS abated
  FROM (
    SELECT raw, j,
      CASE WHEN json_type(j.resourceType) = 'VARCHAR' THEN j.resourceType ->> '$' END AS rtype
    FROM (
      SELECT raw, from_json(raw, '{STRUCTURE}') AS j
      FROM read_ndjson_objects({paths}, ignore_errors = true) AS r(raw)
      WHERE raw IS NOT NULL AND json_type(raw) = 'OBJECT'
    )
  )
  WHERE rtype IN ({read})
)"""
    own = f"""MATERIALIZED (
  SELECT key, j, rtype, rid, abated, coalesce(rtype || '/' || rid, rtype) AS name,
    CASE
      WHEN rtype = 'Medication' THEN NULL
      WHEN rtype = 'Patient' THEN rid
      WHEN {_patient_reference("subject")} THEN substr(j.subject ->> '$.reference', 9)
      WHEN {_patient_reference("patient")} THEN substr(j.patient ->> '$.reference', 9)
    END AS patient
  FROM lr_res
)"""
    targets = """(
  SELECT patient, rtype || '/' || rid AS ref, key, rtype, name, j FROM lr_own
  WHERE rid IS NOT NULL AND (patient IS NOT NULL OR rtype = 'Medication')
)"""
    patients = "(SELECT DISTINCT patient FROM lr_own WHERE patient IS NOT NULL)"
    return [
        ("lr_res", resources),
        ("lr_own", own),
        ("lr_patients", patients),
        ("lr_target", targets),
    ]


def _patient_reference(key: str) -> str:
    return (
        f"json_type(j.{key}, '$.reference') = 'VARCHAR' "
        f"AND starts_with(j.{key} ->> '$.reference', 'Patient/')"
    )


def _decisions() -> list[Step]:
    """Evidence -> one value per fact and patient (`mapping.decide`), the disagreements and
    status codes that reject a patient, and each patient's facts as JSON members."""
    evidence = """(
  SELECT e.patient, e.fact, e.val, e.label,
    CASE WHEN f.kind = 'bool' THEN e.val ELSE '`' || e.val || '`' END AS shown
  FROM (
    SELECT * FROM lr_cond_evidence UNION ALL SELECT * FROM lr_cause_evidence
    UNION ALL SELECT * FROM lr_exposure_evidence UNION ALL SELECT * FROM lr_obs_evidence
  ) AS e JOIN lr_fact AS f ON f.fact = e.fact
  WHERE e.val IS NOT NULL
)"""
    decided = """(
  SELECT patient, fact, count(DISTINCT val) AS n,
    min({'label': label, 'shown': shown}) AS first, any_value(val) AS val
  FROM lr_evidence GROUP BY patient, fact
)"""
    disagree = sql_string(msg.FHIR_SOURCES_DISAGREE.code.value)
    bad_code = sql_string(msg.FHIR_BAD_CODE.code.value)
    conflicts = f"""(
  SELECT d.patient, {disagree} AS code, {_conflict_message()} AS reason
  FROM lr_decided AS d
  JOIN LATERAL (
    SELECT min({{'label': e.label, 'shown': e.shown}}) AS second FROM lr_evidence AS e
    WHERE e.patient = d.patient AND e.fact = d.fact AND e.shown <> d.first.shown
  ) AS s ON true
  WHERE d.n > 1
)"""
    verification = filled_message(
        msg.FHIR_BAD_CODE.text,
        location="'Condition.verificationStatus.coding[' || (v_pos - 1) || '].code'",
        code="v_code",
        system=sql_string(CONDITION_VERIFICATION),
    )
    clinical = filled_message(
        msg.FHIR_BAD_CODE.text,
        location="'Condition.clinicalStatus.coding[' || (c_pos - 1) || '].code'",
        code="c_code",
        system=sql_string(CONDITION_CLINICAL),
    )
    observation = filled_message(
        msg.FHIR_BAD_CODE.text,
        location="'Observation.status'",
        code="raw_status",
        system=sql_string(OBSERVATION_STATUS_SYSTEM),
    )
    bad = f"""(
  SELECT patient, {bad_code} AS code, {verification} AS reason FROM lr_cond WHERE v = 'BAD'
  UNION ALL
  SELECT patient, {bad_code}, {clinical} FROM lr_cond
  WHERE c = 'BAD' AND v IS DISTINCT FROM 'BAD' AND v IS DISTINCT FROM 'IGNORED'
  UNION ALL
  SELECT patient, {bad_code}, {observation} FROM lr_obs WHERE counts = 'BAD' OR counts IS NULL
)"""
    problems = """(
  SELECT patient, list(code ORDER BY code, reason) AS codes,
    list(reason ORDER BY code, reason) AS reasons
  FROM (SELECT DISTINCT patient, code, reason
        FROM (SELECT * FROM lr_conflict UNION ALL SELECT * FROM lr_bad))
  GROUP BY patient
)"""
    members = """(
  SELECT d.patient,
    string_agg(',' || to_json(d.fact)::VARCHAR || ':' || CASE WHEN f.kind = 'bool'
      THEN d.val ELSE to_json(d.val)::VARCHAR END, '' ORDER BY d.fact) AS members
  FROM lr_decided AS d JOIN lr_fact AS f ON f.fact = d.fact WHERE d.n = 1 GROUP BY d.patient
)"""
    return [
        ("lr_evidence", evidence),
        ("lr_decided", decided),
        ("lr_conflict", conflicts),
        ("lr_bad", bad),
        ("lr_problems", problems),
        ("lr_facts", members),
    ]


def _output() -> str:
    line = "'{\"id\":' || to_json(p.patient)::VARCHAR || coalesce(fa.members, '') || '}'"
    return f"""SELECT p.patient,
  CASE WHEN pr.patient IS NULL THEN {line} END AS line,
  coalesce(pr.codes, []::VARCHAR[]) AS codes, coalesce(pr.reasons, []::VARCHAR[]) AS reasons
FROM lr_patients AS p
LEFT JOIN lr_problems AS pr ON pr.patient = p.patient
LEFT JOIN lr_facts AS fa ON fa.patient = p.patient
ORDER BY p.patient"""


def _conflict_message() -> str:
    """`FHIR_SOURCES_DISAGREE`'s message, its fields filled in SQL."""
    return filled_message(
        msg.FHIR_SOURCES_DISAGREE.text,
        fact="d.fact",
        first="d.first.label",
        first_value="d.first.shown",
        second="s.second.label",
        second_value="s.second.shown",
    )


def _value_text(value: t.BindValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# The members that say what a line is and whose it is.
_IDENTITY = '{"resourceType": "JSON", "id": "JSON", "subject": "JSON", "patient": "JSON"}'


def problems_query(files: Sequence[Path]) -> str:
    """The SQL that counts, per file, the lines left out (as `bulk.FolderProblems` does)."""
    paths = "[" + ", ".join(sql_string(str(path)) for path in files) + "]"
    read = ", ".join(sql_string(kind) for kind in sorted(READ_TYPES))
    return f"""
SELECT parse_filename(filename) AS file, kind, count(*) AS n FROM (
  SELECT filename, CASE
    WHEN raw IS NULL THEN {sql_string(NOT_JSON)}
    WHEN json_type(raw) <> 'OBJECT' OR json_type(j.resourceType) IS DISTINCT FROM 'VARCHAR'
      THEN {sql_string(NOT_A_RESOURCE)}
    WHEN (j.resourceType ->> '$') IN ({read}) AND (j.resourceType ->> '$') <> 'Patient'
      AND NOT coalesce({_patient_reference("subject")}, false)
      AND NOT coalesce({_patient_reference("patient")}, false)
      THEN {sql_string(NO_PATIENT)}
    WHEN (j.resourceType ->> '$') = 'Patient' AND json_type(j.id) IS DISTINCT FROM 'VARCHAR'
      THEN {sql_string(NO_PATIENT)}
  END AS kind
  FROM (
    SELECT raw, filename,
      CASE WHEN json_type(raw) = 'OBJECT' THEN from_json(raw, '{_IDENTITY}') END AS j
    FROM read_ndjson_objects({paths}, filename = true, ignore_errors = true) AS r(raw, filename)
  )
) WHERE kind IS NOT NULL GROUP BY ALL ORDER BY ALL
"""


class BulkSQL:
    """An export mapped inside DuckDB: `patients()` in patient id order, `problems` counted."""

    def __init__(
        self,
        files: Sequence[Path],
        bindings: Bindings,
        facts: Mapping[str, str],
        as_of: datetime.date,
        threads: int | None = None,
        memory_limit: str | None = None,
    ) -> None:
        self.files = list(files)
        self.bindings = bindings
        self.facts = dict(facts)
        self.as_of = as_of
        self.threads = threads
        self.memory_limit = memory_limit
        self.problems = FolderProblems()

    def patients(self) -> Iterator[PatientFacts]:
        if not self.files:
            return
        import tempfile

        import duckdb

        spill = tempfile.TemporaryDirectory(prefix="leukorules-bulk-sql-")
        con = duckdb.connect(":memory:")
        try:
            # A large export is sorted and joined on disk rather than in memory.
            con.execute(f"SET temp_directory = {sql_string(spill.name)}")
            if self.memory_limit:
                con.execute(f"SET memory_limit = {sql_string(self.memory_limit)}")
            if self.threads:
                con.execute(f"SET threads = {int(self.threads)}")
            for file, kind, count in con.sql(problems_query(self.files)).fetchall():
                self.problems.counts[(file, kind)] += count
            query = mapping_query(self.files, self.bindings, self.as_of, self.facts)
            reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
            for batch in reader:
                columns: dict[str, Any] = batch.to_pydict()
                for patient, line, codes, reasons in zip(
                    columns["patient"],
                    columns["line"],
                    columns["codes"],
                    columns["reasons"],
                    strict=True,
                ):
                    if line is None:
                        problems = tuple(zip(codes, reasons, strict=True))
                        yield PatientFacts(patient, {}, problems)
                    else:
                        facts = json.loads(line)
                        del facts["id"]
                        yield PatientFacts(patient, facts)
        finally:
            con.close()
            spill.cleanup()
