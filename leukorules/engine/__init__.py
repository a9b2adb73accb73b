"""The engine: facts validation, the compiled evaluator, the result model and explanations.

Stages: `facts` (a facts document -> typed values) -> `compile` (a checked policy -> generated
straight-line code, cached per policy) -> `evaluation` (a run -> the `Evaluation` result of
`result`) and `explain` (one rule, step by step) using the walkers of `trace`.
"""
