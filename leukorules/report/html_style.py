"""The stylesheet of the HTML report, inlined into every report (no external file, no fonts).

The header stays compact (title, one line of policy details, one line of counts, the contents),
so the recommendations start on the first screen."""

from __future__ import annotations

CSS = """
:root {
  --ink: #1d1d1d; --muted: #5d6670; --line: #d9dee3; --paper: #ffffff; --band: #f5f7f9;
  --applied: #2f7d55; --applied-bg: #e8f5ee; --not: #7a8796; --not-bg: #f1f3f5;
  --undetermined: #9a6a00; --undetermined-bg: #fff4d6; --overridden: #b03a2e;
  --overridden-bg: #fbeceb; --accent: #3b6ea5;
}
* { box-sizing: border-box; }
html { font-size: 15px; }
body {
  margin: 0; color: var(--ink); background: var(--paper);
  font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; line-height: 1.45;
}
main { max-width: 1180px; margin: 0 auto; padding: 0 24px 48px; }
header.report { background: var(--band); border-bottom: 1px solid var(--line); }
header.report .inner { max-width: 1180px; margin: 0 auto; padding: 20px 24px 14px; }
h1 { font-size: 1.55rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 28px 0 10px; padding-bottom: 4px;
     border-bottom: 2px solid var(--line); }
h3 { font-size: 1.02rem; margin: 18px 0 6px; color: var(--muted); }
.meta { color: var(--muted); font-size: 0.9rem; margin: 0; }
nav.toc { font-size: 0.9rem; margin-top: 10px; }
nav.toc a { margin-right: 14px; color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
.summary { display: flex; flex-wrap: wrap; gap: 6px; margin: 10px 0 0; padding: 0;
           list-style: none; font-size: 0.9rem; }
.summary li a { display: inline-block; background: var(--paper); border: 1px solid var(--line);
                border-radius: 12px; padding: 1px 10px; color: var(--ink);
                text-decoration: none; }
.summary li a:hover { border-color: var(--accent); }
.summary .count { font-weight: 700; }
.summary .label { color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px;
         border-bottom: 1px solid var(--line); }
th { background: var(--band); font-weight: 600; }
td.value { min-width: 10em; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
           white-space: pre-wrap; overflow-wrap: break-word; }
.unknown-facts { line-height: 1.9; }
.unknown { color: var(--muted); font-style: italic; }
.card { border: 1px solid var(--line); border-left: 5px solid var(--applied);
        border-radius: 6px; padding: 10px 14px; margin: 10px 0; background: var(--paper); }
.card.note { border-left-color: var(--accent); }
.card.caution { border-left-color: var(--undetermined); }
.card.overridden { border-left-color: var(--overridden); }
.card .action { font-size: 1.05rem; font-weight: 700; }
.card .note-text { margin: 0 0 4px; font-size: 1.02rem; }
.card .rule-id, code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
                       font-size: 0.86rem; }
.card .rule-id { color: var(--muted); margin-left: 8px; }
blockquote { margin: 6px 0; padding: 4px 12px; border-left: 3px solid var(--line);
             color: #33393f; font-style: italic; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0 0;
           font-size: 0.9rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.badge { display: inline-block; border-radius: 10px; padding: 0 9px; font-size: 0.8rem;
         font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.badge.strength { color: var(--accent); }
.badge.applied, .badge.fired { color: var(--applied); background: var(--applied-bg); }
.badge.not-applied, .badge.not_fired { color: var(--not); background: var(--not-bg); }
.badge.undetermined { color: var(--undetermined); background: var(--undetermined-bg); }
.badge.overridden { color: var(--overridden); background: var(--overridden-bg); }
.badge.not-encoded { color: var(--overridden); }
.diagram { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; padding: 8px;
           background: #fcfcfd; }
.diagram svg { max-width: 100%; height: auto; display: block; }
.empty { color: var(--muted); font-style: italic; }
.literate { border: 1px solid var(--line); border-radius: 6px; }
.literate .title { font-size: 1.1rem; font-weight: 700; padding: 10px 14px;
                   background: var(--band); }
.literate .heading { font-weight: 700; padding: 10px 14px 4px; }
.literate .heading.level-2 { padding-left: 28px; }
.literate .heading.level-3 { padding-left: 42px; font-weight: 600; }
.literate .statement { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr);
                       gap: 14px; padding: 7px 14px; border-top: 1px solid var(--line);
                       border-left: 5px solid var(--not); }
.literate .statement.applied { border-left-color: var(--applied); background: var(--applied-bg); }
.literate .statement.undetermined { border-left-color: var(--undetermined);
                                    background: var(--undetermined-bg); }
.literate .statement.not-encoded { border-left-color: var(--overridden); }
.literate .statement .text { margin: 0; }
.literate .statement .ref { color: var(--muted); font-size: 0.85rem; margin-left: 4px; }
.literate aside { font-size: 0.86rem; color: #33393f; }
.literate aside p { margin: 0 0 3px; }
details.trace summary { cursor: pointer; font-weight: 600; padding: 6px 0; }
details.trace td:first-child { white-space: nowrap; }
footer.report { margin-top: 40px; padding: 14px 0 0; border-top: 2px solid var(--line);
                color: var(--muted); font-size: 0.84rem; }
footer.report table { font-size: 0.84rem; }
footer.report td.hash { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
                        word-break: break-all; }
@media print {
  nav.toc { display: none; }
  .card, .literate .statement, tr { break-inside: avoid; }
  .diagram { overflow: visible; }
}
"""
