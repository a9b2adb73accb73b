"""The result stage: what an evaluation found, as immutable records, and its JSON.

Takes: nothing but what the engine hands it (the engine builds the records). Gives: the
`Evaluation` and `Explanation` record trees (`model`), their JSON text (`serialize`) and their
JSON Schema plus validated parsing of saved results (`schema`, the only pydantic user here).
Must never import: `leukorules.engine`, `leukorules.check`, `leukorules.syntax`,
`leukorules.report`, `leukorules.model` (results are read without the policy). `model` and
`serialize` do not import pydantic.
"""

from leukorules.result.model import (
    ConditionStep,
    Dependency,
    Derived,
    EngineInfo,
    Evaluation,
    EvidenceInfo,
    Explanation,
    FactProvenance,
    FactValue,
    GapInfo,
    Note,
    Outcome,
    Overridden,
    PolicyInfo,
    Read,
    Reason,
    Recommendation,
    RecordSource,
    RuleKind,
    SourceEvidence,
    SourceInfo,
    Strength,
    TraceEntry,
    Undetermined,
    UndeterminedGap,
    WhyNot,
)

__all__ = [
    "ConditionStep",
    "Dependency",
    "Derived",
    "EngineInfo",
    "Evaluation",
    "EvidenceInfo",
    "Explanation",
    "FactProvenance",
    "FactValue",
    "GapInfo",
    "Note",
    "Outcome",
    "Overridden",
    "PolicyInfo",
    "Read",
    "Reason",
    "Recommendation",
    "RecordSource",
    "RuleKind",
    "SourceEvidence",
    "SourceInfo",
    "Strength",
    "TraceEntry",
    "Undetermined",
    "UndeterminedGap",
    "WhyNot",
]
