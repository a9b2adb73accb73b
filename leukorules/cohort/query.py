"""Policy and cohort layout -> the one SQL query that decodes, checks and evaluates a cohort.

Input: a checked `Policy`, a `CohortSource` (the cohort's format and the columns the query reads)
and a `Dialect`. Output: `CohortQuery`: the SQL text, the columns of the relation it reads when it
does not read the cohort file itself (`STREAM`, which the caller provides), and the columns it
returns. Pure: no connection, no state; the same input gives the same bytes, so the query can be
printed, reviewed and compared (`render_sql`, its long lines broken for people to read).

The query is a chain of common table expressions, one step each:

    lr:source   the cohort's records, one row each, numbered from 1 (`lr:row`)
    lr:typed    the id and one typed column per input fact (`leukorules.cohort.decode_sql`),
                with a code and a reason column per problem decoding can find
    lr:checked  the row's problem codes and reasons gathered, the declared-domain checks
                (`leukorules.cohort.sql.value_checks`) added; enum facts as the dialect's
                enum type, where it has one (`Dialect.enum_value`)
    lr:layer…   the policy's rules and derived facts (`leukorules.cohort.sql.compile_policy`)
    lr:missing… the unknown facts that would decide each undetermined rule (the "lists"
                shape; the "flags" shape returns the row tests they are made of instead)

and returns one row per record, in no particular order: `RESULT_COLUMNS`, plus `derived` (a
struct of the derived facts) when the policy has any. A row whose `reason` is not NULL was
rejected (its `codes` say why); the others were evaluated. A dialect whose `result_shape` is
"flags" gets each rule's fired column instead of the lists (`r<i>`: TRUE fired, FALSE not, NULL
undetermined; the engine turns them into the lists), and instead of the missing facts, the row
tests their formulas use (`leukorules.cohort.missing`: a fact unknown, a sub-condition unknown, a
derived fact without a value), one boolean column each (`CohortQuery.tests`), from which the
engine counts the missing facts itself: cheaper than one column per (rule, fact) pair, and no
lists to build.

The records come from `STREAM`, which the caller provides, or (Parquet; JSON Lines and CSV when
the dialect `reads_text_files`) from the file itself; records read from a JSON Lines or CSV file
are not numbered by the query (`row` is NULL): the engine numbers them in the order the query
returns them, which is the file's order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from leukorules import model as m
from leukorules.cohort.decode_sql import (
    Decoded,
    csv_id,
    decode_csv,
    decode_json,
    decode_parquet,
    json_extra_keys,
    json_id,
    parquet_id,
)
from leukorules.cohort.dialect import Dialect
from leukorules.cohort.layout import Layout, arrow_kind
from leukorules.cohort.missing import MissingPair, Test, tests_of
from leukorules.cohort.readers import REASON_SEPARATOR, CohortFormat, CohortInput
from leukorules.cohort.sql import (
    CompiledSQL,
    MissingForm,
    RowCheck,
    compile_policy,
    constraint_checks,
    term_sql,
    value_checks,
)
from leukorules.cohort.sqltext import INDENT, indented, lay_out
from leukorules.messages import ROW_A_KEY_TWICE

# A column of the "flags" result shape, for a JSON Lines file the query reads: true where the
# dialect's JSON reader may have read the line otherwise than a strict JSON parser, NULL where it
# could not read it; the engine then reads the line again itself.
CHECK_COLUMN = "check"
# An id this long is a sign for the `check` column: Python reads a JSON integer of at most 640
# to 4,300 digits (`sys.set_int_max_str_digits`), DuckDB any.
LONG_ID = 600

# The relation a CSV or JSON Lines query reads: the caller registers the records under this name.
STREAM = "lr_stream"
# What the query returns, in order (then `derived`, when the policy derives facts).
RESULT_COLUMNS = (
    "row",  # the record's row number in the cohort
    "id",  # its id, as text (NULL when it has none)
    "codes",  # the diagnostic codes of its problems, each once (empty: none)
    "reason",  # its problems, in words (NULL: none; the row was evaluated)
    "fired",  # the ids of the rules that fired
    "undetermined",  # the ids of the undetermined rules
    "missing_pairs",  # `rule fact` for each unknown fact that would decide an undetermined rule
    "missing_facts",  # the facts missing from at least one undetermined rule, each once
)
DERIVED_COLUMN = "derived"
# The "flags" shape's rule columns, one per rule in the policy's order: `<prefix><i>`.
RULE_COLUMN = "r"
# The "flags" shape's row tests (`CohortQuery.tests`): columns `<prefix><i>`.
TEST_COLUMN = "t"
# How each result shape has `compile_policy` give the missing facts.
MISSING_FORM: Mapping[str, MissingForm] = {"flags": "terms", "lists": "columns"}


@dataclass(frozen=True, slots=True)
class CohortSource:
    """What the query reads. `fact_columns` (CSV and Parquet): the policy's input facts the file
    has, in file order; `column_kinds` (Parquet): the type of the id column and of each fact
    column, as `leukorules.cohort.layout.arrow_kind` names it; `path`: the file the query reads
    itself (Parquet; JSON Lines and CSV when the dialect `reads_text_files`), None when the
    records come from `STREAM`; `columns` (CSV read from `path`): every column of the file, in
    file order."""

    format: CohortFormat
    id_column: str
    fact_columns: tuple[str, ...] = ()
    ignore_extra: bool = False
    path: str | None = None
    column_kinds: Mapping[str, str] = field(default_factory=dict)
    columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CohortQuery:
    """The SQL, and `stream`: the columns of `STREAM` as (name, type) pairs, empty when the query
    reads the file itself. CSV: the row number (int64), the id cell and the cells of the source's
    `fact_columns` in order (text); JSON Lines: the row number and the line. `numbered`: whether
    `row` holds the row numbers (else the engine numbers the records as they arrive). "flags"
    shape: `missing`, the missing pairs and their formulas; `tests`, the row test of each column
    `t<i>` (`TEST_COLUMN`), which the formulas use."""

    text: str
    stream: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]
    numbered: bool = True
    missing: tuple[MissingPair, ...] = ()
    tests: tuple[Test, ...] = ()


@dataclass(frozen=True, slots=True)
class _Typed:
    """The `lr:typed` step: its select list and the checks whose columns it adds."""

    select: tuple[str, ...]
    checks: tuple[RowCheck, ...]


def build_query(
    policy: m.Policy, source: CohortSource, d: Dialect, indent: str = ""
) -> CohortQuery:
    """The query of a cohort run: see the module's docstring for its steps and columns.
    `indent`: put before every line of a step's body, for people to read (`render_sql`). Runs
    keep the text compact, as DuckDB has always been given it."""
    compiled = compile_policy(
        policy, d, d.ident("lr:checked"), missing=MISSING_FORM[d.result_shape]
    )
    source_step, stream = _source_step(policy, source, d)
    typed = _typed_step(policy, source, d)
    select = [*typed.select]
    for number, check in enumerate(typed.checks):
        select.append(
            f"CASE WHEN {check.condition} THEN {d.string(check.code)} END "
            f"AS {d.ident(f'lr:c{number}')}"
        )
        select.append(
            f"CASE WHEN {check.condition} THEN {check.reason} END AS {d.ident(f'lr:m{number}')}"
        )
    ctes = [
        (d.ident("lr:source"), source_step),
        (d.ident("lr:typed"), _select(select, d.ident("lr:source"))),
        (d.ident("lr:checked"), _checked_step(policy, source, d, len(typed.checks))),
        *compiled.ctes,
    ]
    bodies = [(name, indented(body, indent) if indent else body) for name, body in ctes]
    text = "WITH " + ",\n".join(f"{name} AS (\n{body}\n)" for name, body in bodies)
    numbered = source.format == "parquet" or source.path is None
    if d.result_shape == "flags":
        flags = _result_flags(policy, source, d, compiled)
        text += "\n" + _select(list(flags.select), compiled.last)
        return CohortQuery(
            text, stream, flags.columns, numbered, compiled.missing_terms, flags.tests
        )
    text += "\n" + _select(_result_select(policy, source, d, compiled), compiled.last)
    columns = RESULT_COLUMNS + ((DERIVED_COLUMN,) if policy.derived_facts else ())
    return CohortQuery(text, stream, columns, numbered)


def cohort_source(layout: Layout, reader: CohortInput, path: str | None = None) -> CohortSource:
    """What the query needs to know of a cohort: its format, columns and (Parquet) types.
    `path`: how the engine names the Parquet file (default: the reader's path made absolute, as
    DuckDB needs it: it expands a leading `~`)."""
    kinds: dict[str, str] = {}
    if layout.format == "parquet":
        schema = reader.arrow_schema
        for name in (layout.id_column, *layout.fact_columns):
            kinds[name] = arrow_kind(schema.field(name).type)
        path = path or os.path.abspath(reader.path)
    else:
        path = None
    return CohortSource(
        layout.format, layout.id_column, layout.fact_columns, layout.ignore_extra, path, kinds
    )


def render_sql(policy: m.Policy, dialect: Dialect, cohort_format: CohortFormat = "parquet") -> str:
    """The query a batch run executes for `policy`, for people to read: a comment saying which
    cohort it is written for (`canonical_source`), then the query `build_query` gives, indented
    and its long lines broken (`leukorules.cohort.sqltext.lay_out`): only whitespace differs
    from the text a run executes. The same policy gives the same bytes."""
    source = canonical_source(policy, cohort_format, dialect.reads_text_files)
    query = build_query(policy, source, dialect, INDENT)
    version = " ".join(policy.version.split())
    header = [
        f"-- policy {policy.id} {version}, compiled to {dialect.name} SQL",
        f"-- the query `leukorules batch` runs on a {_FORMAT_NAMES[cohort_format]} cohort with an",
        "-- `id` column and one column (key) per input fact; one row out per record",
    ]
    if query.stream:
        columns = ", ".join(f'"{name}" {kind}' for name, kind in query.stream)
        header.append(f"-- it reads the records from {STREAM} ({columns})")
    if not query.numbered:
        header.append("-- records come back in file order, numbered by the engine as they arrive")
    return "\n".join(header) + "\n" + lay_out(query.text) + ";\n"


def canonical_source(
    policy: m.Policy, cohort_format: CohortFormat, reads_file: bool = False
) -> CohortSource:
    """A cohort of `cohort_format` with an `id` column (text) and a column for every input fact
    (Parquet: typed as the facts are declared, in `cohort.parquet`). `reads_file`: the query
    reads a JSON Lines or CSV cohort from `cohort.jsonl` / `cohort.csv` itself."""
    if cohort_format == "jsonl":
        return CohortSource("jsonl", "id", path="cohort.jsonl" if reads_file else None)
    facts = tuple(f.name for f in policy.input_facts)
    if cohort_format == "csv":
        if reads_file:
            return CohortSource("csv", "id", facts, path="cohort.csv", columns=("id", *facts))
        return CohortSource("csv", "id", facts)
    kinds = {f.name: _PARQUET_KINDS.get(f.type.kind, "string") for f in policy.input_facts}
    return CohortSource("parquet", "id", facts, False, "cohort.parquet", {"id": "string", **kinds})


# The Parquet column type (as `leukorules.cohort.layout.arrow_kind` names it) `render_sql` gives
# each kind of fact; a kind not listed is text.
_PARQUET_KINDS = {
    "bool": "bool",
    "integer": "integer",
    "number": "floating",
    "date": "date",
    "set": "string_list",
}
_FORMAT_NAMES = {"parquet": "Parquet", "jsonl": "JSON Lines", "csv": "CSV"}


def _select(items: list[str], relation: str) -> str:
    return "SELECT " + ",\n  ".join(items) + f"\nFROM {relation}"


def _source_step(
    policy: m.Policy, source: CohortSource, d: Dialect
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The `lr:source` step, and the columns of the stream it reads (none for Parquet)."""
    row = d.ident("lr:row")
    if source.format == "parquet":
        assert source.path is not None
        return d.parquet_rows(source.path, row), ()
    unnumbered = f"{d.null(d.integer_type)} AS {row}"
    if source.format == "jsonl":
        # One parse per line: every key this policy reads, as raw JSON values (NULL when absent),
        # the id renamed to `lr:id` so that it cannot collide with a fact.
        line = d.ident("lr:line")
        members = [(d.ident("lr:id"), source.id_column)]
        members += [(d.ident(f.name), f.name) for f in policy.input_facts]
        obj = d.ident("lr:obj")
        fields = [row, f"{d.json_fields(line, members)} AS {obj}", line]
        # `lr:plain`: the line has no more colons than known keys with a value (each key has
        # its colon): no key is given twice, none is unknown, none is null, and the key checks
        # need not list its keys.
        given = " + ".join(
            f"(CASE WHEN {d.field(obj, member)} IS NULL THEN 0 ELSE 1 END)" for member, _ in members
        )
        plain = f"{d.count_character(line, ':')} = {given}"
        keys = f"CASE WHEN {plain} THEN {d.nonnull_list([])} ELSE {d.json_keys(line)} END"
        stream: tuple[tuple[str, str], ...] = ()
        if source.path is None:
            parsed = _select(fields, STREAM)
            stream = (("lr:row", "int64"), ("lr:line", "string"))
        else:
            # The file's lines, NULL where the dialect's reader cannot read one as JSON; the
            # line is kept for the final check (`Dialect.json_line_check`).
            parsed = _select([unnumbered, *fields[1:]], f"({d.jsonl_file(source.path, line)})")
        outer = ["*", f"{keys} AS {d.ident('lr:keys')}", f"{plain} AS {d.ident('lr:plain')}"]
        return _select(outer, f"(\n{parsed}\n)"), stream
    if source.path is None:
        cells = [(f"c{i}", "string") for i in range(len(source.fact_columns))]
        return f"SELECT * FROM {STREAM}", (("lr:row", "int64"), ("lr:id_raw", "string"), *cells)
    # The file's fields by position (`f<i>`: the file's i-th column), named as the stream names
    # them: the id cell and the cells of the facts.
    positions = [source.columns.index(name) for name in source.fact_columns]
    fields = [unnumbered, f"f{source.columns.index(source.id_column)} AS {d.ident('lr:id_raw')}"]
    fields += [f"f{position} AS c{n}" for n, position in enumerate(positions)]
    return _select(fields, f"({d.csv_file(source.path, len(source.columns))})"), ()


def _typed_step(policy: m.Policy, source: CohortSource, d: Dialect) -> _Typed:
    """Row number, id and one typed column per input fact; the checks decoding found."""
    select: list[str] = [d.ident("lr:row")]
    checks: list[RowCheck] = []

    def add(decoded: Decoded, name: str) -> None:
        select.append(f"{decoded.value} AS {d.ident(name)}")
        checks.extend(decoded.checks)

    if source.format == "jsonl":
        select += [d.ident("lr:keys"), d.ident("lr:plain")]
        if source.path is not None:
            select.append(d.ident("lr:line"))
        obj = d.ident("lr:obj")
        add(json_id(d, d.field(obj, d.ident("lr:id")), source.id_column), "lr:id")
        for fact in policy.input_facts:
            add(decode_json(d, fact, d.field(obj, d.ident(fact.name))), fact.name)
        if not source.ignore_extra:
            known = [source.id_column, *(f.name for f in policy.input_facts)]
            derived = [f.name for f in policy.derived_facts]
            checks.extend(
                RowCheck(f"CASE WHEN {d.ident('lr:plain')} THEN FALSE ELSE {c} END", code, text)
                for c, code, text in json_extra_keys(d, d.ident("lr:keys"), known, derived)
            )
        return _Typed(tuple(select), tuple(checks))
    if source.format == "csv":
        add(csv_id(d, d.ident("lr:id_raw"), source.id_column), "lr:id")
    else:
        kind = source.column_kinds[source.id_column]
        id_column = d.external_ident(source.id_column)
        add(parquet_id(d, id_column, kind, source.id_column), "lr:id")
    for fact in policy.input_facts:
        if fact.name not in source.fact_columns:
            select.append(f"{d.null(d.column_type(fact.type))} AS {d.ident(fact.name)}")
        elif source.format == "csv":
            position = source.fact_columns.index(fact.name)
            add(decode_csv(d, fact, d.ident(f"c{position}")), fact.name)
        else:
            kind = source.column_kinds[fact.name]
            add(decode_parquet(d, fact, d.ident(fact.name), kind), fact.name)
    return _Typed(tuple(select), tuple(checks))


def _duplicate_keys(d: Dialect) -> str:
    keys = d.ident("lr:keys")
    twice = f"{d.list_length(keys)} <> {d.list_length(d.distinct_list(keys))}"
    return f"CASE WHEN {d.ident('lr:plain')} THEN FALSE ELSE {twice} END"


def _checked_step(policy: m.Policy, source: CohortSource, d: Dialect, decoding: int) -> str:
    """`lr:checked`: every column of `lr:typed`, the row's codes and its reason."""
    codes = [d.ident(f"lr:c{n}") for n in range(decoding)]
    texts = [d.ident(f"lr:m{n}") for n in range(decoding)]
    found = [f"{code} IS NOT NULL" for code in codes]
    for fact in policy.input_facts:
        for condition, code, text in value_checks(fact, d.ident(fact.name), d):
            codes.append(f"CASE WHEN {condition} THEN {d.string(code)} END")
            texts.append(f"CASE WHEN {condition} THEN {text} END")
            found.append(f"COALESCE({condition}, FALSE)")
    code_list = d.distinct_list(d.nonnull_list(codes))
    reason = d.join_nonnull(texts, REASON_SEPARATOR)
    # Most rows have no problem: lists are built only for the rows that have one.
    no_codes = d.nonnull_list([])
    any_problem = " OR ".join(found) or "FALSE"
    if found:
        code_list = f"CASE WHEN {any_problem} THEN {code_list} ELSE {no_codes} END"
        reason = f"CASE WHEN {any_problem} THEN {reason} END"
    contradictions = constraint_checks(policy, d)
    if contradictions:
        # Facts that contradict each other are checked once every fact is valid, as the
        # engine's validation does: only a row with no other problem can break a constraint.
        clean = f"NOT ({any_problem})"
        broken = " OR ".join(c for c, _, _ in contradictions)
        broken_codes = d.distinct_list(
            d.nonnull_list(
                [f"CASE WHEN {c} THEN {d.string(code)} END" for c, code, _ in contradictions]
            )
        )
        broken_codes = f"CASE WHEN {broken} THEN {broken_codes} ELSE {no_codes} END"
        broken_texts = d.join_nonnull(
            [f"CASE WHEN {c} THEN {text} END" for c, _, text in contradictions], REASON_SEPARATOR
        )
        broken_texts = f"CASE WHEN {broken} THEN {broken_texts} END"  # no text joined per row
        code_list = f"CASE WHEN {clean} THEN {broken_codes} ELSE {code_list} END"
        reason = f"CASE WHEN {clean} THEN {broken_texts} ELSE {reason} END"
    if source.format == "jsonl":
        # A key given twice makes the line unreadable as one patient, as for the python
        # engine's reader: that alone is reported.
        twice = _duplicate_keys(d)
        malformed = d.list_of([d.string(ROW_A_KEY_TWICE.code)])
        code_list = f"CASE WHEN {twice} THEN {malformed} ELSE {code_list} END"
        reason = f"CASE WHEN {twice} THEN {d.string(ROW_A_KEY_TWICE.text)} ELSE {reason} END"
    # Enum facts leave as the dialect's enum values, where it has them (`Dialect.enum_value`).
    enums = [
        (d.ident(f.name), d.enum_value(d.ident(f.name), f.type.values))
        for f in policy.input_facts
        if f.type.kind == "enum"
    ]
    replaced = [(name, value) for name, value in enums if value is not None]
    every = d.star_replacing(replaced) if replaced else "*"
    columns = [
        every,
        f"{code_list} AS {d.ident('lr:codes')}",
        f"{reason} AS {d.ident('lr:reason')}",
    ]
    return _select(columns, d.ident("lr:typed"))


@dataclass(frozen=True, slots=True)
class _Flags:
    """The "flags" result: its select list, its columns, and the row test of each `t<i>`."""

    select: tuple[str, ...]
    columns: tuple[str, ...]
    tests: tuple[Test, ...]


def _result_flags(
    policy: m.Policy, source: CohortSource, d: Dialect, compiled: CompiledSQL
) -> _Flags:
    """RESULT_COLUMNS up to `reason`, the rules' fired columns `r<i>`,
    `derived` (when the policy derives facts), `check` (a JSON Lines file the query reads), then
    `t<i>`: the row test i of the missing pairs' formulas (`leukorules.cohort.missing.tests_of`)
    holds."""
    lists = _result_select(policy, source, d, compiled)
    select = lists[:4]
    columns = list(RESULT_COLUMNS[:4])
    for number, rule in enumerate(compiled.rules):
        select.append(f"{rule.fired} AS {d.ident(f'{RULE_COLUMN}{number}')}")
        columns.append(f"{RULE_COLUMN}{number}")
    select += lists[8:]
    columns += [DERIVED_COLUMN] if policy.derived_facts else []
    if source.format == "jsonl" and source.path is not None:
        # Signs that a line needs a strict look: a problem, a list value, a key left out, an id
        # long enough to be a whole number of more digits than a strict parser may read (a
        # value anywhere else that is not one the fact takes is a problem).
        signs = [f"{d.list_length(d.ident('lr:codes'))} > 0"]
        signs.append(f"COALESCE(CHAR_LENGTH({d.ident('lr:id')}) > {LONG_ID}, FALSE)")
        signs += [
            f"{d.ident(f.name)} IS NOT NULL" for f in policy.input_facts if f.type.kind == "set"
        ]
        if source.ignore_extra:
            names = (source.id_column, *(f.name for f in policy.input_facts))
            known = ", ".join(d.string(k) for k in names)
            others = d.filter_list(d.ident("lr:keys"), "k", lambda k: f"{k} NOT IN ({known})")
            signs.append(f"{d.list_length(others)} > 0")
        line = d.ident("lr:line")
        check = d.json_line_check(line, "(" + " OR ".join(signs) + ")")
        select.append(f"CASE WHEN {line} IS NOT NULL THEN {check} END AS {d.ident(CHECK_COLUMN)}")
        columns.append(CHECK_COLUMN)
    tests = tests_of(compiled.missing_terms)
    for number, test in enumerate(tests):
        select.append(
            f"{term_sql(test, d, compiled.derived, {})} AS {d.ident(f'{TEST_COLUMN}{number}')}"
        )
        columns.append(f"{TEST_COLUMN}{number}")
    return _Flags(tuple(select), tuple(columns), tuple(tests))


def _result_select(
    policy: m.Policy, source: CohortSource, d: Dialect, compiled: CompiledSQL
) -> list[str]:
    record_id = d.ident("lr:id")
    if (
        source.format == "jsonl"
    ):  # a line with a key given twice has no id, as for the python engine
        record_id = f"CASE WHEN {_duplicate_keys(d)} THEN NULL ELSE {record_id} END"
    row, record, codes, reason, fired, undetermined, pairs, facts = RESULT_COLUMNS
    select = [
        f"{d.ident('lr:row')} AS {d.ident(row)}",
        f"{record_id} AS {d.ident(record)}",
        f"{d.ident('lr:codes')} AS {d.ident(codes)}",
        f"{d.ident('lr:reason')} AS {d.ident(reason)}",
        f"{compiled.fired_list()} AS {d.ident(fired)}",
        f"{compiled.undetermined_list()} AS {d.ident(undetermined)}",
        f"{compiled.missing_pairs()} AS {d.ident(pairs)}",
        f"{compiled.missing_facts()} AS {d.ident(facts)}",
    ]
    if policy.derived_facts:
        members = [(d.ident(f.name), compiled.derived[f.name]) for f in policy.derived_facts]
        select.append(f"{d.struct(members)} AS {d.ident(DERIVED_COLUMN)}")
    return select
