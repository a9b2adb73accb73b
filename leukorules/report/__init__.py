"""Renderers of an `Evaluation` (and of one rule's `Explanation`): text, JSON, markdown, HTML.

Takes: the result records of `leukorules.result` (text, markdown and JSON read nothing else, so
a saved result can be rendered again later; the HTML report also reads the `model.Policy`, for
its literate view of the guideline, and the authoring tools' diagram and source reading).
Gives: a string ending in a newline. Text is for a clinician at a terminal (colour only when
asked for), markdown is an auditor's report of the same content, JSON is the result itself.
Must never import: `leukorules.engine`, `leukorules.check`, `leukorules.syntax`,
`leukorules.cohort`, `leukorules.audit`, `leukorules.cli`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from leukorules.result.model import Evaluation, Explanation

Format = Literal["text", "json", "markdown"]
FORMATS: tuple[Format, ...] = ("text", "json", "markdown")


def render(evaluation: Evaluation, fmt: Format = "text", color: bool = False) -> str:
    if fmt == "json":
        return evaluation.to_json(indent=2) + "\n"
    if fmt == "markdown":
        from leukorules.report.markdown import render_markdown

        return render_markdown(evaluation)
    from leukorules.report.text import render_text

    return render_text(evaluation, color=color)


def render_explanation(explanation: Explanation, fmt: Format = "text", color: bool = False) -> str:
    if fmt == "json":
        return explanation.to_json(indent=2) + "\n"
    if fmt == "markdown":
        from leukorules.report.markdown import render_explanation_markdown

        return render_explanation_markdown(explanation)
    from leukorules.report.text import render_explanation_text

    return render_explanation_text(explanation, color=color)
