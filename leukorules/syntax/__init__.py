"""The syntax stage: policy text -> syntax trees, and syntax trees -> canonical text.

Takes: a `SourceFile` (`leukorules.source`). Gives: an `ast.Module` (frozen syntax nodes with
spans, comments kept) or every syntax diagnostic of the file (`parser`, driving Lark through
`lark_adapter`, with `recovery` and the `repairs` tables); the canonical layout of a module
(`formatter`) and of a checked model (`render`); the language's keywords, read off the grammar
(`keywords`).
Must never import: `leukorules.check`, `leukorules.engine`, `leukorules.result`,
`leukorules.report`, `leukorules.cohort`, `leukorules.cli`. Only `lark_adapter` imports `lark`.
"""
