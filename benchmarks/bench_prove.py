"""Benchmark: `leukorules prove` of the bundled policy, and exact conflict analysis at scale.

Run from the repository root:

    python benchmarks/bench_prove.py            # writes benchmarks/RESULTS-prove.md
    python benchmarks/bench_prove.py --quick    # fewer repetitions

1. The bundled policy's properties proven for every patient: `prove()` in-process (warm: the
   policy checked and compiled before the clock runs), and the `leukorules prove` command's wall
   time beside `leukorules check` of the same policy, as the baseline, measured in the same run.
   Target: under 5 s.
2. The logic analysis of a generated 1,000-rule policy (`benchmarks/generate.py`), alone and
   with 20 pairs of exclusive derivations added whose conditions read four integer facts over 40
   values each (400 conflict questions): the bounded search gives up on each (LR413), the
   solver proves each pair exclusive. `analyse` with the solver beside `analyse` with the
   bounded search only (the baseline, on 2 pairs: each give-up costs its full budget), in the
   same run; the diagnostics of each are counted. Target: under 60 s, no give-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import generate  # noqa: E402

from leukorules.check import check_paths  # noqa: E402
from leukorules.check.analysis import analyse  # noqa: E402
from leukorules.check.resolve import Resolver  # noqa: E402
from leukorules.check.search import FIRST_LOOK_BUDGET, SEARCH_BUDGET  # noqa: E402
from leukorules.prove.properties import prove  # noqa: E402
from leukorules.source import SourceFile  # noqa: E402
from leukorules.syntax.parser import parse  # noqa: E402

BUNDLED = REPO / "policies" / "leukoencephalopathy"
RESULTS = REPO / "benchmarks" / "RESULTS-prove.md"
HARD_PAIRS = 20
BASELINE_PAIRS = 2


def median(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def command_seconds(*args: str, runs: int) -> float:
    """Median wall time of `leukorules ARGS` in a fresh process (the policy cache off)."""
    env = {**os.environ, "LEUKORULES_NO_CACHE": "1"}

    def once() -> None:
        subprocess.run(
            [sys.executable, "-m", "leukorules", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )

    return median(once, runs)


def hard_policy(rules: int, pairs: int = HARD_PAIRS) -> str:
    """The generated policy with `pairs` pairs of rules deriving `grade`, high and low, whose
    conditions exclude each other (across pairs too: every high and low rule are exclusive)
    only once four integer facts over 40 values each are decided: the bounded search gives up
    on every such question, the solver proves each exclusive."""
    listed = ", ".join(str(n) for n in range(1, 41))
    wide = " and ".join(f"lab_{i} in {{{listed}}}" for i in range(4))
    stages = generate.ENUMS["stage"]
    extra = ["derived grade: enum { low, high }"]
    for k in range(pairs):
        first, second = stages[k % 3], stages[(k + 1) % 3]
        extra.append(
            f'rule hard.r{k}.high {{ statement "Hard {k} high." evidence 1 '
            f"when {wide} and stage == {first} and sign_{k % 10} and lab_4 == {k + 1} "
            f"derive grade = high }}"
        )
        extra.append(
            f'rule hard.r{k}.low {{ statement "Hard {k} low." evidence 1 '
            f"when lab_4 == {k + 1} and stage == {second} derive grade = low }}"
        )
    return generate.policy_text(rules) + "\n".join(extra) + "\n"


def hard_questions(text: str) -> int:
    """The conflict questions between the hard rules: every high rule with every low rule."""
    pairs = text.count("derive grade = high")
    return pairs * text.count("derive grade = low")


def draft_of(text: str):  # type: ignore[no-untyped-def]
    module, problems = parse(SourceFile.from_text("generated.rules", text))
    assert module is not None, problems
    return Resolver().resolve(module.items)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args()
    runs = 3 if args.quick else 7

    lines = [
        "# `leukorules prove` and exact logic checks",
        "",
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}; medians of {runs} runs. "
        "Produced by `python benchmarks/bench_prove.py`.",
        "",
    ]

    # --- 1. prove of the bundled policy
    checked = check_paths([BUNDLED])
    policy = checked.policy
    assert policy is not None
    results = prove(policy)
    assert all(r.holds for r in results), [r.prop.id for r in results if not r.holds]
    in_process = median(lambda: prove(policy), runs)
    prove_wall = command_seconds("prove", str(BUNDLED), runs=runs)
    check_wall = command_seconds("check", str(BUNDLED), runs=runs)
    verdict = "meets" if prove_wall < 5 else "MISSES"
    part1 = [
        "## Proving the bundled policy's properties",
        "",
        f"{len(results)} properties, all holding. Target: under 5 s ({verdict}).",
        "",
        "| what | time |",
        "|---|---:|",
        f"| `prove()` in-process, policy checked and compiled | {in_process * 1000:.0f} ms |",
        f"| `leukorules prove` command, wall | {prove_wall:.2f} s |",
        f"| baseline: `leukorules check` of the same policy, wall | {check_wall:.2f} s |",
        "",
    ]
    print("\n".join(part1))

    # --- 2. the logic analysis of a generated 1,000-rule policy
    def analysed(text: str, solver: bool, repeat: int) -> tuple[float, Counter[str], int]:
        draft = draft_of(text)
        codes: Counter[str] = Counter(str(d.code) for d in analyse(draft, solver=solver))
        return median(lambda: analyse(draft, solver=solver), repeat), codes, len(draft.rules)

    def shown(codes: Counter[str]) -> str:
        return ", ".join(f"{n} {c}" for c, n in sorted(codes.items())) or "none"

    repeat = max(1, runs // 2)
    plain = generate.policy_text(1000)
    hard = hard_policy(1000)
    few = hard_policy(1000, BASELINE_PAIRS)
    rows = [
        ("generated", plain, True, repeat),
        ("generated", plain, False, repeat),
        (f"generated + {HARD_PAIRS} hard pairs", hard, True, repeat),
        (f"generated + {BASELINE_PAIRS} hard pairs", few, True, repeat),
        (f"generated + {BASELINE_PAIRS} hard pairs", few, False, 1),
    ]
    table = []
    target = 0.0
    give_ups = 0
    for name, text, solver, times in rows:
        seconds, codes, rules = analysed(text, solver, times)
        questions = hard_questions(text)
        if name.endswith(f"{HARD_PAIRS} hard pairs") and solver:
            target, give_ups = seconds, codes["LR413"]
        how = "solver" if solver else "baseline: bounded search only"
        table.append(
            f"| {name} ({rules:,} rules, {questions} hard questions) | {how} | "
            f"{seconds:.2f} s | {shown(codes)} |"
        )
        print(table[-1], flush=True)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hard.rules"
        path.write_text(hard, encoding="utf-8")
        check_wall = command_seconds("check", str(path), runs=repeat)
    verdict = "meets" if target < 60 and give_ups == 0 else "MISSES"
    part2 = [
        "## Logic analysis of a generated 1,000-rule policy",
        "",
        f"`analyse` (cycles, impossible conditions, conflicts, rules that never fire, "
        f"constraints) of the `benchmarks/generate.py` policy of 1,000 rules, alone and with "
        f"pairs of rules deriving `grade` high and low whose conditions exclude each other only "
        f"once four integer facts over 40 values each are decided: every high/low pair is a "
        f"conflict question the bounded search gives up on (LR413) and the solver proves "
        f"exclusive. Target: under 60 s without a give-up, {HARD_PAIRS} pairs "
        f"({hard_questions(hard)} hard questions): {target:.2f} s, {give_ups} give-ups "
        f"({verdict}). `leukorules check` of that policy's file, wall: {check_wall:.2f} s. "
        f"The baseline runs on {BASELINE_PAIRS} pairs: each give-up searches its full budget "
        f"of {SEARCH_BUDGET:,} candidates.",
        "",
        "| policy | analysis | time | diagnostics |",
        "|---|---|---:|---|",
        *table,
        "",
        "LR413: a give-up of the bounded search (only without the solver). LR420: a rule that "
        "can never fire (the generator writes rules `after` rules whose conditions exclude "
        "theirs), which only the solver looks for. With the solver, the bounded search is a "
        f"first look of {FIRST_LOOK_BUDGET:,} candidates per question; what it leaves open the "
        "solver decides.",
        "",
    ]
    print("\n".join(part2))
    if not args.no_write:
        RESULTS.write_text("\n".join([*lines, *part1, *part2]), encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
