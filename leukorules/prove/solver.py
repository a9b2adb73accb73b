"""The solver behind every proof: Z3, from the `prove` extra, imported only when needed.

Input: nothing. Output: the `z3` module (`z3_module()`), or `SolverMissing` whose message names
`pip install 'leukorules[prove]'`; `solver_installed()` asks without raising. A solver object
made here (`new_solver()`) is deterministic: the same formula gives the same answers and models
from run to run; `satisfiable` asks it, and an answer that is neither yes nor no is an error
(`SolverUndecided`), never taken as a no.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

INSTALL_HINT = "pip install 'leukorules[prove]'"


class SolverMissing(RuntimeError):
    """The `prove` extra (the Z3 solver) is not installed."""

    def __init__(self) -> None:
        super().__init__(f"proofs need the Z3 solver: {INSTALL_HINT}")


def z3_module() -> ModuleType:
    """The z3 module; SolverMissing when it cannot be imported."""
    try:
        return importlib.import_module("z3")
    except ImportError:
        raise SolverMissing() from None


class SolverUndecided(RuntimeError):
    """The solver answered neither sat nor unsat (never expected: the questions are over
    booleans and linear arithmetic, which Z3 decides; a limit reached would say so here)."""


def satisfiable(solver: Any, *terms: Any) -> bool:
    """Whether the solver's assertions and `terms` hold together for some patient: never a
    guess, `SolverUndecided` when the solver cannot say."""
    z3 = z3_module()
    answer = solver.check(*terms)
    if answer == z3.unknown:
        raise SolverUndecided(f"the solver could not decide: {solver.reason_unknown()}")
    return bool(answer == z3.sat)


def solver_installed() -> bool:
    try:
        z3_module()
    except SolverMissing:
        return False
    return True


# Boolean connectives built straight through the C API: z3's own `And`, `Or`, `Not` and `==`
# check and coerce every argument in Python, which dominates the time to encode a large policy
# (the arguments here are always Boolean terms of the one default context).


def conj(terms: list[Any]) -> Any:
    """The conjunction of Boolean terms (true for none)."""
    z3 = z3_module()
    if not terms:
        return z3.BoolVal(True)
    if len(terms) == 1:
        return terms[0]
    ctx = terms[0].ctx
    array = (z3.Ast * len(terms))(*(t.as_ast() for t in terms))
    return z3.BoolRef(z3.Z3_mk_and(ctx.ref(), len(terms), array), ctx)


def disj(terms: list[Any]) -> Any:
    """The disjunction of Boolean terms (false for none)."""
    z3 = z3_module()
    if not terms:
        return z3.BoolVal(False)
    if len(terms) == 1:
        return terms[0]
    ctx = terms[0].ctx
    array = (z3.Ast * len(terms))(*(t.as_ast() for t in terms))
    return z3.BoolRef(z3.Z3_mk_or(ctx.ref(), len(terms), array), ctx)


def neg(term: Any) -> Any:
    z3 = z3_module()
    return z3.BoolRef(z3.Z3_mk_not(term.ctx.ref(), term.as_ast()), term.ctx)


def same(left: Any, right: Any) -> Any:
    """`left == right` for two Boolean terms."""
    z3 = z3_module()
    return z3.BoolRef(z3.Z3_mk_eq(left.ctx.ref(), left.as_ast(), right.as_ast()), left.ctx)


def new_solver() -> Any:
    """A fresh Z3 solver with a fixed random seed (answers and models are reproducible)."""
    z3 = z3_module()
    solver = z3.Solver()
    solver.set("random_seed", 0)
    return solver
