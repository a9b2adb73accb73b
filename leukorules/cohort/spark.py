"""Spark SQL's dialect: everything that knows how Spark spells SQL, and nothing that runs it.

Input: SQL requests from the shared compilers (`leukorules.cohort.sql`, `decode_sql`, `query`).
Output: Spark SQL text (`SparkDialect`), and the session settings the text relies on
(`SESSION_SQL_CONF`). Nothing is imported from pyspark here: the SQL can be written and read
anywhere. Running a cohort on Spark is `leukorules.cohort.spark_run`.

What Spark spells differently from standard SQL, and how:

- identifiers are quoted with backticks; string literals escape `\\` and `'` with a backslash
  (Spark does not double quotes: `'it''s'` would be two literals run together), and
  `SESSION_SQL_CONF` pins the parser setting that makes backslashes escapes;
- lists are `ARRAY<STRING>` with higher-order functions (`filter`, `transform`), structs are
  `struct(value AS name)`;
- regular expressions are Java's: a full match is anchored with `^(?:...)\\z` (Java's `$` also
  matches before a final line break);
- `floor` of a double is a 64-bit integer on Spark (an overflow error for 1e30), so a whole
  number is tested with `% 1`;
- a double's text is Java's (`1.0E10`); `number_text` rewrites it as Python's `repr` and DuckDB
  write it (`10000000000.0`, `1e+16`), so that rejection reasons read the same on every engine;
- JSON: a value is a struct of a VARIANT (`v`, from `parse_json`: its kind, and its value for
  casts) and its text (`t`, from `from_json` into strings: integers keep every digit, other
  numbers read as Java writes doubles, strings unquoted). The text tells a JSON integer (`40`)
  from a fraction (`40.0`), which a VARIANT does not (it stores `40.0` as the decimal `40`).

Guarantees: as `leukorules.cohort.dialect`: identifiers are validated and quoted, values are
typed literals with their quotes and backslashes escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from leukorules.cohort.dialect import Dialect, ElementSQL, JSONKind, SQLCompileError

# Runtime settings the generated SQL relies on; `spark_run` sets them on every session.
SESSION_SQL_CONF = {
    # backslashes in string literals are escapes (`string` escapes them)
    "spark.sql.parser.escapedStringLiterals": "false",
    # "..." is a string, never an identifier (identifiers are in backticks)
    "spark.sql.ansi.doubleQuotedIdentifiers": "false",
    # `Age` and `age` can both be facts
    "spark.sql.caseSensitive": "true",
    # dates are calendar dates, whatever the cluster's zone
    "spark.sql.session.timeZone": "UTC",
    # `${x}` in a string literal is text, never a variable to substitute
    "spark.sql.variable.substitute": "false",
}

# The largest magnitude a JSON integer may have and still be typed as one (DuckDB types larger
# ones as doubles, keeping their text): 64-bit unsigned.
_UNSIGNED_MAX = "18446744073709551615"
_SIGNED_MIN = "-9223372036854775808"
# The members of `arrays_zip(variants, texts)`, as `json_items` names them.
ZIPPED_VARIANT = "z['0']"
ZIPPED_TEXT = "z['1']"


class SparkDialect(Dialect):
    """Spark SQL's spellings (Spark 4: VARIANT, `try_cast`, `array_size`)."""

    name = "spark"
    text_type = "STRING"
    # `json_type` names the kinds itself (see there)
    json_type_names: Mapping[JSONKind, tuple[str, ...]] = {
        kind: (kind,)
        for kind in ("null", "boolean", "integer", "double", "string", "array", "object")
    }

    # --- names and values --------------------------------------------------------------------

    def ident(self, name: str) -> str:
        super().ident(name)  # validates
        return "`" + name.replace("`", "``") + "`"

    def external_ident(self, name: str) -> str:
        super().external_ident(name)  # validates
        return "`" + name.replace("`", "``") + "`"

    def string(self, text: str) -> str:
        if "\x00" in text:
            raise SQLCompileError("a string containing a NUL character cannot be a SQL literal")
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    # --- expressions -------------------------------------------------------------------------

    def substring(self, text: str, start: int, length: int) -> str:
        return f"substr({text}, {start}, {length})"

    def is_whole(self, number: str) -> str:
        return f"{number} % 1 = 0"

    def number_text(self, number: str, kind: str) -> str:
        text = self.cast(number, self.text_type)
        if kind != "number":
            return text
        # Java writes a double in plain notation from 1e-3 up to 1e7, Python from 1e-4 up to
        # 1e16: between them, the plain digits of the same (shortest) decimal.
        plain = (
            f"regexp_replace(regexp_replace({self.try_cast(number, 'DECIMAL(38, 21)')} || '', "
            f"'0+$', ''), '[.]$', '.0')"
        )
        mantissa = f"regexp_replace(regexp_extract({text}, '^(-?[0-9.]+)E', 1), '[.]0$', '')"
        exponent = f"regexp_extract({text}, 'E(-?)([0-9]+)$', 2)"
        sign = f"CASE WHEN regexp_extract({text}, 'E(-?)', 1) = '-' THEN '-' ELSE '+' END"
        digits = f"CASE WHEN length({exponent}) < 2 THEN '0' ELSE '' END || {exponent}"
        scientific = f"{mantissa} || 'e' || {sign} || {digits}"
        magnitude = f"abs({number})"
        return (
            f"CASE WHEN {magnitude} >= 1e-4D AND {magnitude} < 1e16D THEN {plain} "
            f"WHEN {text} LIKE '%E%' THEN {scientific} ELSE {text} END"
        )

    def set_type(self) -> str:
        return "ARRAY<STRING>"

    def set_contains(self, column: str, element: str) -> str:
        return f"array_contains({column}, {element})"

    def join_nonnull(self, items: Sequence[str], separator: str) -> str:
        if not items:
            return self.null(self.text_type)
        return f"NULLIF(concat_ws({self.string(separator)}, {', '.join(items)}), '')"

    def try_cast(self, value: str, sql_type: str) -> str:
        return f"try_cast({value} AS {sql_type})"

    def full_match(self, text: str, pattern: str) -> str:
        return f"regexp_like({text}, {self.string('^(?:' + pattern + ')' + chr(92) + 'z')})"

    def is_finite(self, number: str) -> str:
        return f"(NOT isnan({number}) AND abs({number}) <> CAST('Infinity' AS DOUBLE))"

    def trim_blank(self, text: str) -> str:
        return f"trim(BOTH {self.string(' ' + chr(9))} FROM {text})"

    def list_of(self, items: Sequence[str]) -> str:
        return f"array({', '.join(items)})"

    def list_length(self, items: str) -> str:
        return f"array_size({items})"

    def distinct_list(self, items: str) -> str:
        return f"array_distinct({items})"

    def filter_list(self, items: str, variable: str, keep: ElementSQL) -> str:
        return f"filter({items}, {variable} -> {keep(variable)})"

    def map_list(self, items: str, variable: str, each: ElementSQL) -> str:
        return f"transform({items}, {variable} -> {each(variable)})"

    def join_list(self, items: str, separator: str) -> str:
        return f"array_join({items}, {self.string(separator)})"

    def split_text(self, text: str, separator: str) -> str:
        # split takes a regular expression; \Q...\E quotes the separator
        quoted = chr(92) + "Q" + separator + chr(92) + "E"
        return f"split({text}, {self.string(quoted)}, -1)"

    def struct(self, members: Sequence[tuple[str, str]]) -> str:
        return f"struct({', '.join(f'{value} AS {member}' for member, value in members)})"

    # --- JSON: a value is struct(v VARIANT, t STRING), NULL when the key is absent -----------

    def json_type(self, value: str) -> str:
        # computed once per value where the value is made (`_json_value`)
        return f"{value}.k"

    def _json_kind(self, v: str, t: str) -> str:
        """The kind of the JSON value whose VARIANT is `v` and text `t`."""
        schema = f"schema_of_variant({v})"
        whole = (
            f"{self.full_match(t, '-?[0-9]+')} AND try_cast({t} AS DECIMAL(20, 0)) "
            f"BETWEEN {_SIGNED_MIN} AND {_UNSIGNED_MAX}"
        )
        return (
            f"CASE WHEN {v} IS NULL THEN NULL WHEN {schema} = 'VOID' THEN 'null' "
            f"WHEN {schema} = 'BOOLEAN' THEN 'boolean' WHEN {schema} = 'STRING' THEN 'string' "
            f"WHEN startswith({schema}, 'ARRAY') THEN 'array' "
            f"WHEN startswith({schema}, 'OBJECT') THEN 'object' "
            f"WHEN {whole} THEN 'integer' ELSE 'double' END"
        )

    def _json_value(self, v: str, t: str) -> str:
        """A JSON value (NULL when `v` is): its VARIANT, its text and its kind."""
        value = f"named_struct('v', {v}, 't', {t}, 'k', {self._json_kind(v, t)})"
        return f"CASE WHEN {v} IS NOT NULL THEN {value} END"

    def json_cast(self, value: str, sql_type: str) -> str:
        return self.try_cast(f"{value}.v", sql_type)

    def json_number_text(self, value: str) -> str:
        return f"{value}.t"

    def json_text(self, value: str) -> str:
        return self.cast(f"{value}.v", self.text_type)

    def json_items(self, value: str) -> str:
        variants = f"try_variant_get({value}.v, '$', 'ARRAY<VARIANT>')"
        texts = f"from_json({value}.t, 'ARRAY<STRING>')"
        return (
            f"transform(arrays_zip({variants}, {texts}), "
            f"z -> {self._json_value(ZIPPED_VARIANT, ZIPPED_TEXT)})"
        )

    def json_fields(self, document: str, members: Sequence[tuple[str, str]]) -> str:
        variants = f"try_variant_get(try_parse_json({document}), '$', 'MAP<STRING, VARIANT>')"
        texts = f"from_json({document}, 'MAP<STRING, STRING>')"
        fields = []
        for member, key in members:
            v = f"try_element_at({variants}, {self.string(key)})"
            t = f"try_element_at({texts}, {self.string(key)})"
            fields.append((member, self._json_value(v, t)))
        return self.struct(fields)

    def json_keys(self, document: str) -> str:
        return f"json_object_keys({document})"

    def parquet_rows(self, path: str, row_column: str) -> str:
        source = "`" + path.replace("`", "``") + "`"
        return f"SELECT *, _metadata.row_index + 1 AS {row_column} FROM parquet.{source}"
