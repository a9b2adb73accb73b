"""Tools for guideline authors, beside the pipeline: coverage, scenarios and diagrams.

Takes: a checked `Policy` (and, for scenarios, the compiled evaluator through the `Evaluator`
protocol; for coverage, the guideline's source text). Gives: reports for authors — which
statements of the source are encoded (`coverage`), whether scenario files still hold
(`scenarios`), and the rule graph as Mermaid, DOT or SVG (`diagram`).
Must never import: `cli`, `cohort`, `audit`, or `report` (reports may use these tools, not the
other way round).
"""
