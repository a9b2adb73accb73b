"""One diagnostic type for every stage, its code registry, and its renderings.

Every problem leukorules reports about a policy or a facts file is a `Diagnostic`: a stable code,
a severity, a message, a span, an optional hint and optional related spans. Stages collect them
in lists and return them as data; the CLI decides the exit status from the worst severity.
"""

from __future__ import annotations

import enum
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from leukorules.source import SourceFile, Span


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class Code(enum.StrEnum):
    """Every diagnostic code, with its default severity and a one-line description.

    Codes never change meaning once released; `leukorules check --explain-codes` prints this
    table. A code is a `str` (`Code.LR201 == "LR201"`), so JSON and text output are unchanged;
    naming one that does not exist is a type error, not a `KeyError` at run time. The messages
    that use each code are declared once, in `leukorules.messages`.
    """

    severity: Severity
    description: str

    def __new__(cls, value: str, severity: Severity, description: str) -> Code:
        member = str.__new__(cls, value)
        member._value_ = value
        member.severity = severity
        member.description = description
        return member

    # LR1xx: reading and parsing
    LR101 = "LR101", Severity.ERROR, "file too large"
    LR102 = "LR102", Severity.ERROR, "file is not UTF-8 text"
    LR103 = "LR103", Severity.ERROR, "file cannot be read"
    LR104 = "LR104", Severity.ERROR, "empty policy"
    LR110 = "LR110", Severity.ERROR, "syntax error: unexpected token"
    LR111 = "LR111", Severity.ERROR, "syntax error: unexpected character"
    LR112 = "LR112", Severity.ERROR, "syntax error: unexpected end of file"
    LR113 = "LR113", Severity.ERROR, "unterminated string"
    LR114 = "LR114", Severity.ERROR, "expression nested too deeply"
    LR115 = "LR115", Severity.ERROR, "unknown escape in a string"
    LR116 = "LR116", Severity.ERROR, "number out of range"
    LR120 = "LR120", Severity.ERROR, "include cannot be resolved"
    LR121 = "LR121", Severity.ERROR, "include cycle"
    # LR2xx: names
    LR201 = "LR201", Severity.ERROR, "undeclared fact"
    LR202 = "LR202", Severity.ERROR, "undeclared evidence reference"
    LR203 = "LR203", Severity.ERROR, "undeclared rule"
    LR204 = "LR204", Severity.ERROR, "duplicate declaration"
    LR205 = "LR205", Severity.ERROR, "unknown field"
    LR206 = "LR206", Severity.ERROR, "missing required field"
    LR207 = "LR207", Severity.ERROR, "duplicate field"
    LR208 = "LR208", Severity.ERROR, "missing or duplicate policy header"
    LR209 = "LR209", Severity.ERROR, "invalid value for field"
    # LR3xx: types
    LR301 = "LR301", Severity.ERROR, "value not in enum"
    LR302 = "LR302", Severity.ERROR, "type mismatch"
    LR303 = "LR303", Severity.ERROR, "unit mismatch"
    LR304 = "LR304", Severity.ERROR, "operator not defined for this type"
    LR305 = "LR305", Severity.ERROR, "invalid fact type"
    LR306 = "LR306", Severity.WARNING, "literal outside declared range"
    # LR4xx: policy logic
    LR401 = "LR401", Severity.ERROR, "statement without evidence"
    LR402 = "LR402", Severity.ERROR, "rule without conclusion"
    LR403 = "LR403", Severity.ERROR, "cycle among rules or derived facts"
    LR404 = "LR404", Severity.ERROR, "condition can never be true"
    LR405 = "LR405", Severity.ERROR, "conflicting derivations without precedence"
    LR406 = "LR406", Severity.WARNING, "unused fact"
    LR407 = "LR407", Severity.WARNING, "unused evidence"
    LR408 = "LR408", Severity.WARNING, "evidence without citation"
    LR409 = "LR409", Severity.INFO, "declared guideline gap"
    LR410 = "LR410", Severity.ERROR, "invalid precedence or sequencing"
    LR411 = "LR411", Severity.WARNING, "derived fact never derived"
    LR412 = "LR412", Severity.ERROR, "unknown strength"
    LR413 = "LR413", Severity.WARNING, "conflict check not exhaustive"
    LR414 = "LR414", Severity.ERROR, "constraint reads a derived fact"
    LR415 = "LR415", Severity.WARNING, "constraint never applies"
    LR416 = "LR416", Severity.WARNING, "constraint can never be broken"
    LR417 = "LR417", Severity.WARNING, "constraint can never be met"
    LR420 = "LR420", Severity.WARNING, "rule can never fire"
    LR421 = "LR421", Severity.INFO, "logic checks not exact (no solver installed)"
    # LR5xx: facts and runtime
    LR501 = "LR501", Severity.ERROR, "facts file cannot be read"
    LR502 = "LR502", Severity.ERROR, "unknown fact"
    LR503 = "LR503", Severity.ERROR, "wrong fact type"
    LR504 = "LR504", Severity.ERROR, "value not allowed"
    LR505 = "LR505", Severity.ERROR, "value outside declared range"
    LR506 = "LR506", Severity.ERROR, "derived fact supplied as input"
    LR507 = "LR507", Severity.ERROR, "malformed facts document"
    LR508 = "LR508", Severity.ERROR, "facts contradict each other"
    LR520 = "LR520", Severity.ERROR, "invalid FHIR resource"
    LR521 = "LR521", Severity.ERROR, "sources disagree on a fact"
    # LR6xx: terminology bindings (which codes of a health record give which fact)
    LR601 = "LR601", Severity.ERROR, "binding of an unknown fact"
    LR602 = "LR602", Severity.ERROR, "binding value does not fit its fact"
    LR603 = "LR603", Severity.ERROR, "code not in its system's format"
    LR604 = "LR604", Severity.WARNING, "value set used by no binding"
    LR605 = "LR605", Severity.ERROR, "bindings can give one fact two values"
    LR606 = "LR606", Severity.ERROR, "undeclared value set"
    LR607 = "LR607", Severity.ERROR, "binding lines that do not fit together"


@dataclass(frozen=True, slots=True)
class Related:
    """Another place a diagnostic points to, with what it shows there."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found: a stable code, a message, where (a span), a hint and related places."""

    code: Code
    message: str
    span: Span | None
    severity: Severity = Severity.ERROR
    hint: str | None = None
    related: tuple[Related, ...] = field(default=())

    @staticmethod
    def make(
        code: Code,
        message: str,
        span: Span | None,
        hint: str | None = None,
        related: Sequence[Related] = (),
        severity: Severity | None = None,
    ) -> Diagnostic:
        """A diagnostic with a message written at the call site. Prefer a `Message` of
        `leukorules.messages` (`MESSAGE.at(span, ...)`): declared once, listed in one place."""
        return Diagnostic(code, message, span, severity or code.severity, hint, tuple(related))

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.code)
        return (self.span.file, self.span.line, self.span.column, self.code)

    def to_json(self) -> dict[str, object]:
        def span_json(span: Span | None) -> dict[str, object] | None:
            if span is None:
                return None
            return {
                "file": span.file,
                "line": span.line,
                "column": span.column,
                "end_line": span.end_line,
                "end_column": span.end_column,
            }

        return {
            "code": str(self.code),
            "severity": self.severity.label,
            "message": self.message,
            "span": span_json(self.span),
            "hint": self.hint,
            "related": [{"message": r.message, "span": span_json(r.span)} for r in self.related],
        }


class _Declared(enum.Enum):
    HINT = "the hint the message declares"


DECLARED = _Declared.HINT


@dataclass(frozen=True, slots=True)
class Message:
    """One diagnostic message, declared once in `leukorules.messages`: its code, its text and
    its hint. Text and hint are `str.format` templates whose fields the call site fills:
    `FACT_UNDECLARED.at(span, name="age")` (a literal brace is written `{{` or `}}`). A hint
    that only the call site can write (a "did you mean", a list of valid values) is passed as
    `hint=`; `severity` is set only where a message is less severe than its code's default."""

    code: Code
    text: str
    hint: str | None = None
    severity: Severity | None = None

    def at(
        self,
        span: Span | None,
        /,
        *,
        hint: str | _Declared | None = DECLARED,
        related: Sequence[Related] = (),
        **fields: object,
    ) -> Diagnostic:
        """This message as a diagnostic at `span`, its templates filled from `fields`."""
        text = self.text.format(**fields)
        if hint is DECLARED:
            hint = self.hint.format(**fields) if self.hint is not None else None
        severity = self.severity or self.code.severity
        return Diagnostic(self.code, text, span, severity, hint, tuple(related))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)


# Source lines longer than this many characters are shown as a window around the span.
FRAME_WIDTH = 100


def _cells(text: str) -> list[tuple[str, int]]:
    """Each character of a source line as shown in a terminal: (what to print, its width).

    Tabs become one space (a tab counts as one column, as in every span); control and format
    characters (which could move the cursor, recolour the terminal or reorder the line) become
    U+FFFD; wide characters take two cells and combining marks none, so the caret below lines
    up with what the terminal shows.
    """
    cells: list[tuple[str, int]] = []
    for ch in text:
        if ch == "\t":
            cells.append((" ", 1))
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            cells.append(("\ufffd", 1))
        elif category in ("Mn", "Me"):
            cells.append((ch, 0))
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            cells.append((ch, 2))
        else:
            cells.append((ch, 1))
    return cells


def code_frame(source: SourceFile | None, span: Span, marker: str = "^") -> list[str]:
    """The source line of a span with a caret line under it, mypy/rustc style."""
    if source is None or span.line > source.line_count:
        return []
    cells = _cells(source.line_text(span.line))
    start = min(max(span.column - 1, 0), len(cells))
    stop = max(span.end_column - 1, start + 1) if span.end_line == span.line else len(cells)
    # A long line is cut to a window that starts a little before the span.
    low = 0
    high = len(cells)
    if len(cells) > FRAME_WIDTH:
        low = max(0, min(start - FRAME_WIDTH // 4, len(cells) - FRAME_WIDTH))
        high = low + FRAME_WIDTH
    stop = min(stop, high)
    shown = "".join(text for text, _ in cells[low:high])
    lead = sum(width for _, width in cells[low:start])
    width = max(sum(w for _, w in cells[start:stop]), 1)
    if low > 0:
        shown = "…" + shown
        lead += 1
    if high < len(cells):
        shown += "…"
    gutter = str(span.line)
    pad = " " * len(gutter)
    return [
        f" {pad} |",
        f" {gutter} | {shown}".rstrip(),
        f" {pad} | {' ' * lead}{marker}{'~' * (width - 1)}",
    ]


def printable(text: str) -> str:
    """Text from a policy or from facts, safe to write to a terminal: every character that is
    not printable (controls such as ESC, BEL, CR and newline; format characters such as bidi
    overrides) is written as `\\xNN` or `\\uNNNN`. Idempotent: escaped text is printable."""
    if text.isprintable():
        return text
    return "".join(
        ch
        if ch.isprintable() or ch == " "
        else (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        for ch in text
    )


def render_text(
    diagnostics: Iterable[Diagnostic],
    sources: Mapping[str, SourceFile],
    color: bool = False,
) -> str:
    """Render diagnostics as `file:line:col: severity: message  [code]` plus code frames."""
    styles = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}
    lines: list[str] = []
    for diagnostic in sorted_diagnostics(diagnostics):
        label = diagnostic.severity.label
        if color:
            label = f"\x1b[1;{styles[diagnostic.severity]}m{label}\x1b[0m"
        where = f"{printable(str(diagnostic.span))}: " if diagnostic.span else ""
        message = printable(diagnostic.message)
        lines.append(f"{where}{label}: {message}  [{diagnostic.code}]")
        if diagnostic.span is not None:
            lines.extend(code_frame(sources.get(diagnostic.span.file), diagnostic.span))
        for related in diagnostic.related:
            note = f"{printable(str(related.span))}: {printable(related.message)}"
            lines.append(f"  note: {note}")
            lines.extend(
                "  " + line for line in code_frame(sources.get(related.span.file), related.span)
            )
        if diagnostic.hint:
            hint_lines = [printable(line) for line in diagnostic.hint.splitlines()] or [""]
            lines.append(f"  hint: {hint_lines[0]}")
            lines.extend(f"        {line}" if line else "" for line in hint_lines[1:])
    return "\n".join(lines) + ("\n" if lines else "")


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in sorted_diagnostics(diagnostics)], indent=2) + "\n"


def summary_line(diagnostics: Sequence[Diagnostic], files: int) -> str:
    counts = {s: sum(1 for d in diagnostics if d.severity is s) for s in Severity}
    parts = [
        f"{counts[Severity.ERROR]} error{'s' if counts[Severity.ERROR] != 1 else ''}",
        f"{counts[Severity.WARNING]} warning{'s' if counts[Severity.WARNING] != 1 else ''}",
    ]
    if counts[Severity.INFO]:
        parts.append(f"{counts[Severity.INFO]} note{'s' if counts[Severity.INFO] != 1 else ''}")
    return f"checked {files} file{'s' if files != 1 else ''}: " + ", ".join(parts)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean' hint from the closest candidates, or None when nothing is close."""
    import difflib

    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        if name.lower() in lowered:
            matches = [lowered[name.lower()]]
    if not matches:
        return None
    return "did you mean " + " or ".join(f"`{m}`" for m in matches) + "?"
