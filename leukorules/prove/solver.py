"""The solver behind every proof: Z3, from the `prove` extra, imported only when needed.

Input: nothing. Output: the `z3` module (`z3_module()`), or `SolverMissing` whose message names
`pip install 'leukorules[prove]'`; `solver_installed()` asks without raising. A solver object
made here (`new_solver()`) is deterministic: the same formula gives the same answers and models
from run to run.
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


def solver_installed() -> bool:
    try:
        z3_module()
    except SolverMissing:
        return False
    return True


def new_solver() -> Any:
    """A fresh Z3 solver with a fixed random seed (answers and models are reproducible)."""
    z3 = z3_module()
    solver = z3.Solver()
    solver.set("random_seed", 0)
    return solver
