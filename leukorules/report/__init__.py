"""Renderers of an `Evaluation` (and of one rule's `Explanation`): text, JSON, markdown.

Input: the result models of `leukorules.result` only (never the policy), so a saved JSON
result can be rendered again later. Output: a string ending in a newline. Text is for a
clinician at a terminal (colour only when asked for), markdown is an auditor's report of the
same content, JSON is the result model itself.
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
