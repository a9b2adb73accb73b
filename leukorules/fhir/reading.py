"""Reading FHIR R4 JSON: a record file (a Bundle or one resource) or a Bulk Data export folder
(one NDJSON file per resource type) -> `Entry`s, and validating an entry with `fhir.resources`.

Input: text or files. Output: entries (each resource as plain JSON data with where it sits) and
`Diagnostic`s located both as a FHIR path (`Bundle.entry[3].resource.code.coding[0]`, in the
message) and as file, line and column (the span). Never raises on bad input.

`fhir.resources` (the `fhir` extra) is imported on first validation, not before, so the rest of
leukorules never pays for it; without the extra, `FhirExtraMissing` says what to install. Its
R4B models validate the R4 resources read here (Condition, Observation, MedicationStatement,
MedicationRequest, Medication, Patient, Bundle): fhir.resources 8 ships R5 (default), R4B and
STU3, and these resources are the same in R4 and R4B for every element a binding reads.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leukorules import messages as msg
from leukorules.diagnostics import Diagnostic
from leukorules.fhir.locate import fhir_path, locate
from leukorules.reading import FileTooLarge, NotARegularFile, read_regular_file
from leukorules.source import SourceFile, Span

if TYPE_CHECKING:
    from pydantic import BaseModel

JSON = dict[str, Any]
# A patient's record is megabytes at most; anything this large is a cohort or a mistake.
MAX_RECORD_BYTES = 64 * 1024 * 1024
# Validation problems reported per resource; past this the resource is plainly not FHIR.
MAX_PROBLEMS_PER_RESOURCE = 10
INSTALL_HINT = "pip install 'leukorules[fhir]'"


class FhirExtraMissing(ImportError):
    """fhir.resources is not installed; the message is the one line to show."""

    def __init__(self) -> None:
        super().__init__(f"reading FHIR records needs the fhir extra: {INSTALL_HINT}")


@dataclass(slots=True)
class Text:
    """The text one or more entries were read from, with a line index made when first needed."""

    name: str
    text: str
    base_line: int = 0
    _source: SourceFile | None = field(default=None, repr=False)

    def span(self, offset: int) -> Span:
        if self._source is None:
            self._source = SourceFile.from_text(self.name, self.text)
        line, column = self._source.position(offset)
        return Span.point(self.name, line + self.base_line, column)


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource of a record, with where it sits: `root` is the JSON path of the resource in
    its text and `prefix` the FHIR path that names it in messages."""

    resource: JSON
    prefix: str
    root: tuple[str | int, ...]
    text: Text
    full_url: str | None = None

    @property
    def resource_type(self) -> str:
        kind = self.resource.get("resourceType")
        return kind if isinstance(kind, str) else "?"

    @property
    def resource_id(self) -> str | None:
        rid = self.resource.get("id")
        return rid if isinstance(rid, str) else None

    def where(self, *path: str | int) -> str:
        return fhir_path(self.prefix, path)

    def span(self, *path: str | int) -> Span:
        return self.text.span(locate(self.text.text, (*self.root, *path)))


def read_record_text(text: str, name: str) -> tuple[list[Entry] | None, list[Diagnostic]]:
    """A record's JSON text -> its entries: a Bundle's resources, or the one resource."""
    source = Text(name, text.removeprefix("\ufeff"))
    try:
        data = json.loads(source.text)
    except json.JSONDecodeError as error:
        span = Span.point(name, error.lineno, error.colno)
        return None, [msg.FHIR_NOT_JSON.at(span, reason=error.msg)]
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        return None, [msg.FHIR_NOT_RESOURCE.at(source.span(0), what=name)]
    return read_record_data(data, source.text, name)


def read_record_data(data: JSON, text: str, name: str) -> tuple[list[Entry], list[Diagnostic]]:
    """A record already parsed (`data`, from `text`) -> its entries: a Bundle's resources, or
    the one resource."""
    source = Text(name, text)
    if data["resourceType"] != "Bundle":
        return [Entry(data, data["resourceType"], (), source)], []
    return _bundle_entries(data, source)


def _bundle_entries(bundle: JSON, source: Text) -> tuple[list[Entry], list[Diagnostic]]:
    entries: list[Entry] = []
    problems: list[Diagnostic] = []
    raw = bundle.get("entry", [])
    if not isinstance(raw, list):
        span = source.span(locate(source.text, ("entry",)))
        return [], [msg.FHIR_INVALID.at(span, location="Bundle.entry", reason="not a list")]
    for index, item in enumerate(raw):
        resource = item.get("resource") if isinstance(item, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            where = f"Bundle.entry[{index}]"
            span = source.span(locate(source.text, ("entry", index)))
            problems.append(
                msg.FHIR_INVALID.at(span, location=where, reason="no resource with a resourceType")
            )
            continue
        full_url = item.get("fullUrl")
        entries.append(
            Entry(
                resource,
                f"Bundle.entry[{index}].resource",
                ("entry", index, "resource"),
                source,
                full_url if isinstance(full_url, str) else None,
            )
        )
    return entries, problems


def read_record_file(path: str | Path) -> tuple[list[Entry] | None, list[Diagnostic]]:
    """A record file (JSON) -> its entries; unreadable, oversized or non-UTF-8 files are
    reported, not raised."""
    file = Path(path)
    name = str(path)
    try:
        raw = read_regular_file(file, MAX_RECORD_BYTES)  # a FIFO or device is refused by kind
    except NotARegularFile as refused:
        return None, [msg.FHIR_UNREADABLE.at(None, name=name, reason=f"it is {refused.kind}")]
    except FileTooLarge:
        return None, [msg.FHIR_TOO_LARGE.at(None, name=name, limit=MAX_RECORD_BYTES)]
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return None, [msg.FHIR_UNREADABLE.at(None, name=name, reason=reason)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, [msg.FHIR_UNREADABLE.at(None, name=name, reason="not UTF-8 text")]
    return read_record_text(text, name)


def read_ndjson_file(path: Path) -> Iterator[Entry | Diagnostic]:
    """The resources of one Bulk Data NDJSON file, one per line, or a diagnostic per bad line."""
    name = str(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        yield msg.FHIR_UNREADABLE.at(None, name=name, reason=error.strerror or "cannot open")
        return
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                text = Text(name, line, base_line=number - 1)
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as error:
                    span = Span.point(name, number, error.colno)
                    yield msg.FHIR_NOT_JSON.at(span, reason=error.msg)
                    continue
                if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
                    yield msg.FHIR_NOT_RESOURCE.at(text.span(0), what=f"line {number}")
                    continue
                yield Entry(data, data["resourceType"], (), text)
        except UnicodeDecodeError:
            yield msg.FHIR_UNREADABLE.at(None, name=name, reason="not UTF-8 text")


def read_bulk_folder(folder: str | Path) -> tuple[list[Entry], list[Diagnostic]]:
    """Every resource of a Bulk Data export folder (`*.ndjson`, files in name order)."""
    root = Path(folder)
    if not root.is_dir():
        return [], [msg.FHIR_UNREADABLE.at(None, name=str(folder), reason="not a folder")]
    entries: list[Entry] = []
    problems: list[Diagnostic] = []
    for path in sorted(root.glob("*.ndjson")):
        for item in read_ndjson_file(path):
            if isinstance(item, Entry):
                entries.append(item)
            else:
                problems.append(item)
    return entries, problems


# --- validation with fhir.resources -------------------------------------------------------------

_MODELS: dict[str, type[BaseModel] | None] = {}


def resource_model(resource_type: str) -> type[BaseModel] | None:
    """The fhir.resources R4B model of a resource type (None for a type R4B does not have)."""
    if resource_type in _MODELS:
        return _MODELS[resource_type]
    try:
        importlib.import_module("fhir.resources.R4B")
    except ImportError as error:
        raise FhirExtraMissing() from error
    model: type[BaseModel] | None = None
    if resource_type.isalpha():
        try:
            module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
            model = getattr(module, resource_type, None)
        except ImportError:
            model = None
    _MODELS[resource_type] = model
    return model


def _json_step(step: object) -> str | int | None:
    if isinstance(step, int):
        return step
    if not isinstance(step, str) or not step or "[" in step or " " in step:
        return None
    return "resourceType" if step == "resource_type" else step


def validate(entry: Entry) -> list[Diagnostic]:
    """Diagnostics for every way the entry's resource is not valid FHIR R4 (none when valid)."""
    from pydantic import ValidationError

    model = resource_model(entry.resource_type)
    if model is None:
        reason = f"`{entry.resource_type}` is not a FHIR R4 resource type"
        return [msg.FHIR_INVALID.at(entry.span(), location=entry.where(), reason=reason)]
    try:
        model.model_validate(entry.resource)
    except ValidationError as error:
        problems = []
        for detail in error.errors()[:MAX_PROBLEMS_PER_RESOURCE]:
            steps = [_json_step(step) for step in detail["loc"]]
            path = tuple(step for step in steps if step is not None)
            reason = detail["msg"].split("\n", 1)[0].rstrip(" ,")
            problems.append(
                msg.FHIR_INVALID.at(entry.span(*path), location=entry.where(*path), reason=reason)
            )
        return problems
    return []


def record_data(text: str) -> JSON | None:
    """The parsed document when `text` is a FHIR resource (a JSON object with a `resourceType`),
    else None: how `evaluate` tells a record from a facts file without a flag. A facts document
    that is not JSON costs one failed parse of its first character."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped.startswith("{"):
        return None
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict) and isinstance(data.get("resourceType"), str):
        return data
    return None


def is_fhir_text(text: str) -> bool:
    """Whether a document is a FHIR resource (see `record_data`). Cheap; not a validation."""
    return record_data(text) is not None
