"""A JSON Lines cohort's first records, looked at before a run: is the file JSON Lines at all, and
do its records carry the id key?

Input: the cohort's path and its id key (`--id-column`). Output (`jsonl_cohort_problem`): why the
cohort as a whole cannot be evaluated, or None. CSV and Parquet cohorts are refused for the same
reasons from their header (`leukorules.cohort.layout`); a JSON Lines file has no header, so the
first records stand in for one. Without this, each line of such a file would be rejected on its
own and the run would report thousands of rejected rows instead of one cause.

- One JSON array of patients (`[{...}, {...}]`, on one line or over many), or one JSON document
  written over several lines (a patient's facts file, pretty-printed): refused, with the `jq`
  command that writes it as JSON Lines. A JSON array is not read as a cohort: it would have to be
  held whole, and a cohort is read a batch at a time.
- Records that are JSON objects, none of which has the id key: refused, with the keys they have.
  One record with the key is enough; records without it are then rejected one by one.

Reads at most `PEEK_RECORDS` non-blank lines, each bounded by `leukorules.cohort.lines`.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path

from leukorules.cohort.lines import bounded_lines, open_cohort
from leukorules.diagnostics import did_you_mean

PEEK_RECORDS = 100
_KEYS_NAMED = 10  # keys of those records named in the message, at most


def jsonl_cohort_problem(path: Path, id_column: str) -> str | None:
    name = path.name
    records: list[object] = []
    first: bytes | None = None
    with open_cohort(path) as handle:
        for number, line in enumerate(bounded_lines(handle)):
            if line is not None:
                line = line.removeprefix(codecs.BOM_UTF8) if number == 0 else line
                if not line.strip():
                    continue
            if not records and first is None:
                first = line if line is not None else _start_of(path)
                shape = _whole_document(first, line is None, name)
                if shape is not None:
                    return shape
            records.append(_parsed(line))
            if len(records) >= PEEK_RECORDS:
                break
    objects = [record for record in records if isinstance(record, dict)]
    if not objects or any(id_column in record for record in objects):
        return None
    keys = sorted({key for record in objects for key in record})
    hint = did_you_mean(id_column, keys) or "their keys: " + ", ".join(
        f"`{key}`" for key in keys[:_KEYS_NAMED]
    ) + (", …" if len(keys) > _KEYS_NAMED else "")
    return (
        f"none of the first {len(records):,} records of {name} has the id key `{id_column}` "
        f"({hint}); name the id key with --id-column"
    )


def _whole_document(first: bytes, too_long: bool, name: str) -> str | None:
    """Why the first record shows the file is one JSON document, not JSON Lines; or None."""
    text = first.strip()
    if text.startswith(b"["):
        parsed = None if too_long else _parsed(first)
        is_array_of_objects = isinstance(parsed, list) and all(
            isinstance(item, dict) for item in parsed
        )
        if too_long or parsed is _UNREADABLE or is_array_of_objects:
            return (
                f"{name} holds a JSON array, not JSON Lines: a cohort has one patient per "
                f"line, each a JSON object; write it as JSON Lines with "
                f"`jq -c '.[]' {name} > cohort.jsonl`"
            )
    if text == b"{":
        return (
            f"{name} holds a JSON document written over several lines, not JSON Lines: a "
            f"cohort has one patient per line, each a JSON object on one line; write it as "
            f"JSON Lines with `jq -c . {name} > cohort.jsonl`"
        )
    return None


_UNREADABLE = object()


def _parsed(line: bytes | None) -> object:
    if line is None:
        return _UNREADABLE
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return _UNREADABLE


def _start_of(path: Path) -> bytes:
    """The first bytes of the file's first non-blank line (when that line is too long)."""
    with open_cohort(path) as handle:
        return handle.read(4096).removeprefix(codecs.BOM_UTF8).lstrip()[:64]
