"""The engine: facts validation, the compiled evaluator, explanations.

Takes: a checked `model.Policy`, and a patient's facts. Gives: `CompiledPolicy` (`compile`, the
façade, cached per policy): `decide` (fired ids), `evaluate` (the `Evaluation` records of
`leukorules.result`), `explain` (one rule), `run` (the raw outcome, for cohorts); facts as
`ValidatedFacts`, or `FactsError` with every diagnostic (`facts`, reading files in
`facts_file`). Inside: `plan` (what does not depend on the patient) -> `codegen` (generated
Python) -> `runtime` (one patient's `Run`) -> `build` (records) and `explain`, with the condition
walkers of `trace` and the compiled explanations of `supports`.
Must never import: `leukorules.check`, `leukorules.syntax`, `leukorules.report`,
`leukorules.cohort`, `leukorules.audit`, `leukorules.cli`, `leukorules.authoring`.
"""
