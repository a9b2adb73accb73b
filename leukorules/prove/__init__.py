"""Proofs over every patient: the policy's semantics as a solver formula, and what it decides.

Takes: a checked `model.Policy` (or, for the checker, the facts, rules and constraints of a
draft), and for `diff`, `what_if` and `cohort_diff` a second policy, a patient's facts or a
cohort file. Gives: properties proven or refuted with a counterexample patient (`properties`),
the checker's exact answers (`questions`: conditions that can never hold, conflicting
derivations, rules that can never fire), the patients whose outcomes differ between two
policies (`diff`, `semantic_diff`, `cohort_diff`) and what one changed fact would change
(`what_if`).
Must never import: `leukorules.check`, `leukorules.cli`, `leukorules.report`,
`leukorules.audit`, `leukorules.syntax.lark_adapter`.

The solver is Z3 (`z3-solver`, the `prove` extra), imported only when a proof is asked for
(`solver`); `encoding` is the one translation of the semantics of `leukorules.engine.runtime`
into it, and the tests hold the two to the same outcomes.
"""
