"""Facts files: a JSON or YAML document -> a `FactsDocument` of raw values, with positions.

Input: a facts file (or `-` for stdin) holding one mapping of fact name -> value. Output: a
`FactsDocument` (the raw mapping, and where each fact name was written) or every problem as a
`Diagnostic` (LR501 unreadable, LR502 a key that is not text, LR507 malformed), all at once,
never an exception. Values are not validated here: `leukorules.engine.facts` does that against
the policy's declarations.

Rules of the format: one mapping; YAML is read with the safe loader; anchors and aliases are
refused outright (no alias bombs); documents nested more than MAX_FACTS_DEPTH levels deep are
refused as soon as the reader gets there (in YAML while composing, before anything is built); a
YAML tag on the document itself (`--- !tag`, `!!set`) is refused as one on a value is; documents
that are not a single mapping, and duplicate keys, are refused. Diagnostics point at the line
of the offending key. Being health data, values are never quoted in these diagnostics and no
code frame of the facts file is printed.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Literal

from leukorules import messages as msg
from leukorules.diagnostics import Diagnostic, Related
from leukorules.reading import FileTooLarge, NotARegularFile, read_regular_file
from leukorules.source import SourceFile, Span

# Facts of one patient are a few kilobytes; anything this large is a mistake, not a patient.
MAX_FACTS_BYTES = 1024 * 1024
# A fact's value is one value or a list of them (depth 2 with the document); nothing valid comes
# near this. In YAML the bound also keeps reading linear: PyYAML's scanner does work for every
# open flow collection on every token, so 100,000 unclosed `[` took hours before this check.
MAX_FACTS_DEPTH = 100
_STANDARD_TAGS = "tag:yaml.org,2002:"
_MAPPING_TAG = _STANDARD_TAGS + "map"
STDIN_NAME = "<stdin>"
FactsFormat = Literal["json", "yaml"]


class FactsDocument(dict[str, object]):
    """A raw facts mapping that remembers where each fact name was written."""

    def __init__(
        self,
        items: Mapping[str, object] | None = None,
        spans: Mapping[str, Span] | None = None,
        name: str = "",
    ) -> None:
        super().__init__(items or {})
        self.spans: dict[str, Span] = dict(spans or {})
        self.name = name


# --- reading ----------------------------------------------------------------------------------


def load_facts_file(
    path: str | Path, stdin: IO[bytes] | None = None
) -> tuple[FactsDocument | None, list[Diagnostic]]:
    """Read a JSON or YAML facts document; `-` reads stdin. Values are not validated here.

    A path that is not a regular file (a folder, a device, a FIFO) is refused by what it is;
    to pipe facts in, give `-`. At most MAX_FACTS_BYTES are read, from a file or from stdin.
    """
    if str(path) == "-":
        name = STDIN_NAME
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            raw = stream.read(MAX_FACTS_BYTES + 1)
        except OSError as error:
            return None, [msg.FACTS_STDIN_UNREADABLE.at(None, reason=error)]
        if len(raw) > MAX_FACTS_BYTES:
            at = Span.point(name, 1, 1)
            return None, [msg.FACTS_FILE_TOO_LARGE.at(at, limit=MAX_FACTS_BYTES)]
        suffix = ""
    else:
        file = Path(path)
        name = _display(file)
        suffix = file.suffix.lower()
        try:
            raw = read_regular_file(file, MAX_FACTS_BYTES)
        except NotARegularFile as refused:
            if refused.kind == msg.KIND_FOLDER:
                return None, [msg.FACTS_FILE_IS_FOLDER.at(None, name=name)]
            return None, [msg.FACTS_FILE_NOT_REGULAR.at(None, name=name, kind=refused.kind)]
        except FileTooLarge:
            at = Span.point(name, 1, 1)
            return None, [msg.FACTS_FILE_TOO_LARGE.at(at, limit=MAX_FACTS_BYTES)]
        except OSError as error:
            reason = error.strerror or type(error).__name__
            return None, [msg.FACTS_FILE_UNREADABLE.at(None, name=name, reason=reason)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return None, [msg.FACTS_FILE_NOT_UTF8.at(Span.point(name, line, 1))]
    text = text.removeprefix("\ufeff")
    return parse_facts_text(text, name, _format_of(suffix, text))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _format_of(suffix: str, text: str) -> FactsFormat:
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return "json" if text.lstrip().startswith("{") else "yaml"


def parse_facts_text(
    text: str, name: str = STDIN_NAME, fmt: FactsFormat = "yaml"
) -> tuple[FactsDocument | None, list[Diagnostic]]:
    """Parse facts text (JSON or YAML) into a `FactsDocument` with the position of every key."""
    if not text.strip():
        return None, [msg.FACTS_EMPTY.at(Span.point(name, 1, 1))]
    source = SourceFile.from_text(name, text)
    if fmt == "json":
        return _parse_json(source)
    return _parse_yaml(source)


_WS = re.compile(r"[ \t\n\r]*")


def kind_of(value: object) -> str:
    """What a raw value is, in words (`text`, `a number`, ...), without showing the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime.datetime):
        return "a date and time"
    if isinstance(value, datetime.date):
        return "a date"
    if isinstance(value, list | tuple | set | frozenset):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__} value"


def _parse_json(source: SourceFile) -> tuple[FactsDocument | None, list[Diagnostic]]:
    decoder = json.JSONDecoder()
    try:
        data = decoder.decode(source.text)
    except json.JSONDecodeError as error:
        at = Span.point(source.path, error.lineno, error.colno)
        return None, [msg.FACTS_MALFORMED_JSON.at(at, problem=error.msg)]
    except RecursionError:
        data = None  # deeper than Python's own limit: certainly deeper than ours
        too_deep = True
    else:
        too_deep = _deeper_than(data, MAX_FACTS_DEPTH)
    if too_deep:
        at = Span.point(source.path, 1, 1)
        return None, [msg.FACTS_NESTED_TOO_DEEPLY.at(at, format="JSON", limit=MAX_FACTS_DEPTH)]
    if not isinstance(data, dict):
        start = _WS.match(source.text, 0)
        offset = start.end() if start else 0
        line, column = source.position(offset)
        at = Span.point(source.path, line, column)
        return None, [msg.FACTS_NOT_A_MAPPING.at(at, what=kind_of(data))]
    # The document is valid JSON holding one object: walk its top level again for key positions
    # and duplicate keys (json.loads silently keeps the last duplicate).
    text = source.text
    positions: list[tuple[str, int]] = []
    pos = _skip(text, _skip(text, 0) + 1)
    if text[pos] != "}":
        while True:
            key, end = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
            positions.append((key, pos))
            pos = _skip(text, _skip(text, end) + 1)
            _, pos = decoder.raw_decode(text, pos)
            pos = _skip(text, pos)
            if text[pos] != ",":
                break
            pos = _skip(text, pos + 1)
    spans: dict[str, Span] = {}
    problems: list[Diagnostic] = []
    for key, offset in positions:
        span = source.span(offset, offset + len(key) + 2)
        if key in spans:
            problems.append(_duplicate(key, span, spans[key]))
        else:
            spans[key] = span
    if problems:
        return None, problems
    return FactsDocument(data, spans, source.path), []


def _deeper_than(data: object, limit: int) -> bool:
    """Whether JSON data nests lists and objects more than `limit` deep (without recursion)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in value)
    return False


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def _duplicate(key: str, span: Span, first: Span) -> Diagnostic:
    return msg.FACT_GIVEN_TWICE.at(span, name=key, related=[Related(first, "first given here")])


def _mark_span(name: str, mark: Any) -> Span:
    if mark is None:
        return Span.point(name, 1, 1)
    return Span.point(name, int(mark.line) + 1, int(mark.column) + 1)


def _parse_yaml(source: SourceFile) -> tuple[FactsDocument | None, list[Diagnostic]]:
    import yaml

    name = source.path
    try:
        # Anchors, aliases and deep nesting are refused as the document is composed, before
        # anything is built from it (and before composing recurses that deep).
        loader = guarded_loader(source.text, MAX_FACTS_DEPTH, anchors=True)
        try:
            try:
                node = loader.get_single_node()
            except YamlHazard as hazard:
                at = _mark_span(name, hazard.mark)
                if hazard.kind == "alias":
                    return None, [msg.FACTS_YAML_ALIAS.at(at)]
                limit = MAX_FACTS_DEPTH
                return None, [msg.FACTS_NESTED_TOO_DEEPLY.at(at, format="YAML", limit=limit)]
            if node is None:
                return None, [msg.FACTS_EMPTY.at(Span.point(name, 1, 1))]
            if isinstance(node, yaml.MappingNode) and node.tag != _MAPPING_TAG:
                at = _mark_span(name, node.start_mark)
                return None, [msg.FACTS_DOCUMENT_TAGGED.at(at, tag=yaml_tag_text(node.tag))]
            if not isinstance(node, yaml.MappingNode):
                what = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
                return None, [
                    msg.FACTS_NOT_A_MAPPING.at(_mark_span(name, node.start_mark), what=what)
                ]
            data: dict[str, object] = {}
            spans: dict[str, Span] = {}
            problems: list[Diagnostic] = []
            for key_node, value_node in node.value:
                span = _mark_span(name, key_node.start_mark)
                key = construct_value(loader, key_node)
                if isinstance(key, Unreadable):
                    problems.append(msg.FACTS_KEY_UNREADABLE.at(span, reason=key))
                    continue
                if not isinstance(key, str):
                    shown = "null" if key is None else kind_of(key)
                    problems.append(msg.FACT_NAME_NOT_TEXT.at(span, kind=shown))
                    continue
                if key in spans:
                    problems.append(_duplicate(key, span, spans[key]))
                    continue
                spans[key] = span
                value = construct_value(loader, value_node)
                if isinstance(value, Unreadable):
                    at = _mark_span(name, value_node.start_mark)
                    problems.append(msg.FACT_VALUE_UNREADABLE.at(at, name=key, reason=value))
                    continue
                data[key] = value
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        parts = [p for p in (error.context, error.problem) if p]
        problem = ", ".join(parts) if parts else "cannot be read"
        return None, [msg.FACTS_MALFORMED_YAML.at(_mark_span(name, mark), problem=problem)]
    except yaml.YAMLError as error:
        return None, [msg.FACTS_MALFORMED_YAML.at(Span.point(name, 1, 1), problem=error)]
    except RecursionError:  # kept as a backstop: the depth check refuses such files first
        at = Span.point(name, 1, 1)
        return None, [msg.FACTS_NESTED_TOO_DEEPLY.at(at, format="YAML", limit=MAX_FACTS_DEPTH)]
    if problems:
        return None, problems
    return FactsDocument(data, spans, name), []


class YamlHazard(Exception):
    """What `guarded_loader` refuses while composing: an alias (or anchor), or nesting."""

    def __init__(self, kind: Literal["alias", "deep"], mark: Any) -> None:
        super().__init__(kind)
        self.kind = kind
        self.mark = mark  # PyYAML's mark: where it starts


def guarded_loader(text: str, max_depth: int, anchors: bool = False) -> Any:
    """A PyYAML safe loader for `text` whose composing raises `YamlHazard` at the first alias
    (`*name`; with `anchors`, also an anchor `&name`) and at the first collection nested more
    than `max_depth` deep, before composing goes any deeper.

    One pass over the document: a million `[` is refused after PyYAML's scanner has read about
    a kilobyte (it looks that far ahead for a mapping key). Syntax errors raise PyYAML's
    `MarkedYAMLError` as they would with `yaml.SafeLoader`. The caller disposes of the loader.
    """
    loader = _guarded_class()(text)
    loader.max_depth = max_depth
    loader.refuse_anchors = anchors
    return loader


@functools.cache
def _guarded_class() -> Any:
    import yaml

    class GuardedLoader(yaml.SafeLoader):
        max_depth = 0
        refuse_anchors = False
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            if isinstance(event, yaml.AliasEvent) or (
                self.refuse_anchors and getattr(event, "anchor", None) is not None
            ):
                raise YamlHazard("alias", event.start_mark)
            if not isinstance(event, yaml.CollectionStartEvent):
                return super().compose_node(parent, index)
            if self.depth >= self.max_depth:
                raise YamlHazard("deep", event.start_mark)
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return GuardedLoader


def yaml_tag_text(tag: str) -> str:
    """A resolved YAML tag as an author writes it: `!!set` rather than `tag:yaml.org,2002:set`."""
    return "!!" + tag.removeprefix(_STANDARD_TAGS) if tag.startswith(_STANDARD_TAGS) else tag


class Unreadable(str):
    """A YAML node the safe constructor could not build (the text says why)."""


def construct_value(loader: Any, node: Any) -> object:
    """Build one node with the safe constructor. A scalar the constructor rejects (an impossible
    date such as 2025-02-30 is resolved as a timestamp and raises) is kept as its text, so
    validation can say what is wrong with it; other failures come back as `Unreadable`."""
    import yaml

    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError) as error:
        loader.recursive_objects.clear()
        loader.state_generators = []
        loader.deep_construct = False
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        return Unreadable(str(error))
