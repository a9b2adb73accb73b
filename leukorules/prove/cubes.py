"""A set of patients defined by a solver term -> a union of class combinations, and its count.

Input: a solver term (with its solver) true exactly for the patients of a set, and the
`FactClasses` of the facts it depends on. Output: `Cover`: cubes (a cube picks, for each of
those facts, a set of classes; the facts it does not name are free), each contained in the set,
together covering it (exactly, or up to `max_cubes` cubes, then `complete` is False), and the
number of class combinations the set holds (counted through a disjoint split of the cubes).

A cube grows from a solver model: each fact starts at the model's class; then, fact by fact,
it is freed entirely if the cube stays inside the set, else widened class by class. So a cube
names only the facts that matter and reads as a short condition. The count is exact only when
every term is constant on each class (`exact` of the caller: no condition compares two numeric,
date or string facts); otherwise a model may fall in a class that is not wholly inside the set,
and the cover stops there (`complete` False).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from leukorules.prove.domains import Term
from leukorules.prove.solver import satisfiable, z3_module
from leukorules.prove.space import FactClasses

Cube = dict[str, frozenset[int]]  # fact -> the classes it may take; absent: any class


@dataclass
class Cover:
    cubes: list[Cube]
    complete: bool
    count: int  # class combinations of the named facts (free facts not multiplied in)


def _cube_term(cube: Cube, classes: Mapping[str, FactClasses]) -> Term:
    z3 = z3_module()
    return z3.And(
        [z3.Or([classes[name].term(i) for i in sorted(allowed)]) for name, allowed in cube.items()]
    )


Admitted = Callable[[Mapping[str, int]], bool]


@dataclass(frozen=True)
class Space:
    """The patients a cover counts: each fact's `admissible` classes, and among combinations of
    the `constrained` facts' classes those `admitted` (by the constraints of the space)."""

    classes: Mapping[str, FactClasses]
    admissible: Mapping[str, frozenset[int]]
    constrained: tuple[str, ...] = ()
    admitted: Admitted | None = None


def cover(new_solver: Callable[[], Any], term: Term, space: Space, max_cubes: int = 50) -> Cover:
    """The cubes and the count of the patients for whom `term` holds (see the module
    docstring). `new_solver()` gives a solver that admits only the patients of the space (every
    policy's admissibility); a fact a cube leaves out may take any of its admissible classes."""
    classes, admissible = space.classes, space.admissible
    z3 = z3_module()
    search = new_solver()
    search.add(term)
    inside = new_solver()
    cubes: list[Cube] = []
    disjoint: list[Cube] = []
    complete = True
    while satisfiable(search):
        if len(cubes) == max_cubes:
            complete = False
            break
        model = search.model()
        start = {
            name: frozenset({c.index_of(c.var.value_of(model))}) for name, c in classes.items()
        }
        cube = _grow(inside, term, start, classes, admissible)
        if cube is None:  # the model's class is not wholly inside the set
            complete = False
            break
        cubes.append(cube)
        disjoint.extend(_split([cube], disjoint, classes))
        search.add(z3.Not(_cube_term(cube, classes)))
    count = sum(_size(piece, space) for piece in disjoint)
    return Cover(cubes, complete, count)


def _inside(solver: Any, term: Term, cube: Cube, classes: Mapping[str, FactClasses]) -> bool:
    """Every patient of the space in this cube is in the set."""
    return not satisfiable(solver, _cube_term(cube, classes), z3_module().Not(term))


def _occupied(solver: Any, cube: Cube, classes: Mapping[str, FactClasses]) -> bool:
    """Some patient of the space is in this cube."""
    return satisfiable(solver, _cube_term(cube, classes))


def _grow(
    solver: Any,
    term: Term,
    cube: Cube,
    classes: Mapping[str, FactClasses],
    admissible: Mapping[str, frozenset[int]],
) -> Cube | None:
    if not _inside(solver, term, cube, classes):
        return None
    grown = dict(cube)
    for name in list(grown):
        freed = {k: v for k, v in grown.items() if k != name}
        if _inside(solver, term, freed, classes):
            grown = freed
            continue
        allowed = set(grown[name])
        for index in sorted(admissible[name] - allowed):
            # a class no admissible patient of the cube takes would be inside vacuously, and
            # would only make the description longer (and the next facts harder to free)
            if not _occupied(solver, {**grown, name: frozenset({index})}, classes):
                continue
            trial = {**grown, name: frozenset(allowed | {index})}
            if _inside(solver, term, trial, classes):
                allowed.add(index)
                grown = trial
    return grown


def _split(
    new: list[Cube], disjoint: Sequence[Cube], classes: Mapping[str, FactClasses]
) -> list[Cube]:
    """The parts of `new` cubes outside every cube of `disjoint`, as disjoint cubes."""
    pieces = new
    for old in disjoint:
        pieces = [part for piece in pieces for part in _subtract(piece, old, classes)]
    return pieces


def _subtract(cube: Cube, other: Cube, classes: Mapping[str, FactClasses]) -> list[Cube]:
    def allowed(c: Cube, name: str) -> frozenset[int]:
        return c.get(name, frozenset(range(len(classes[name]))))

    names = set(cube) | set(other)
    if any(not (allowed(cube, n) & allowed(other, n)) for n in names):
        return [cube]
    out: list[Cube] = []
    rest = dict(cube)
    for name in sorted(other):
        mine = allowed(rest, name)
        outside = mine - other[name]
        if outside:
            out.append({**rest, name: outside})
        rest[name] = mine & other[name]
    return out


def _size(cube: Cube, space: Space) -> int:
    """The patients of the space in a cube: the free facts' classes multiplied, times the
    combinations of the constrained facts' classes the constraints admit (each class is
    homogeneous for every condition, so one value stands for it)."""

    def options(name: str) -> frozenset[int]:
        return cube.get(name, space.admissible[name]) & space.admissible[name]

    free = math.prod(len(options(n)) for n in space.classes if n not in space.constrained)
    if not space.constrained or space.admitted is None:
        return free
    names = space.constrained
    admitted = space.admitted
    choices = product(*(sorted(options(n)) for n in names))
    return free * sum(1 for combo in choices if admitted(dict(zip(names, combo, strict=True))))
