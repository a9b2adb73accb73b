"""Benchmark: parse + check of the bundled policy and of generated policies of growing size.

Run from the repository root:

    python benchmarks/bench_check.py            # full run, writes benchmarks/RESULTS-check.md
    python benchmarks/bench_check.py --quick    # fewer repetitions, smaller largest size

Every timing is warm: the Lark parser is built (and the code imported) before the clock runs,
and each number is the median of several runs. The generated policies are valid (no errors) and
realistic in shape: sections of rules reading a few input facts each, derived facts with many
deriving rules (kept free of conflicts by exclusive conditions and `overrides` chains, so the
conflict search has real work to do), `after` sequencing, and evidence on every rule.
Targets: the bundled policy under 100 ms; 10,000 rules under 10 s, growing linearly.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leukorules.check import CheckResult, check_paths  # noqa: E402
from leukorules.check.analysis import analyse  # noqa: E402
from leukorules.check.resolve import Resolver  # noqa: E402
from leukorules.diagnostics import Severity  # noqa: E402
from leukorules.source import SourceFile  # noqa: E402
from leukorules.syntax.parser import gc_paused, parse  # noqa: E402

BUNDLED = REPO / "policies" / "leukoencephalopathy"
RESULTS = REPO / "benchmarks" / "RESULTS-check.md"

# --- a generator of valid policies --------------------------------------------------------------

DERIVERS_PER_FACT = 12  # rules deriving one derived fact: conflict pairs grow with this squared
RULES_PER_SECTION = 25


def generate_policy(rules: int, seed: int = 1) -> str:
    """A valid policy text with exactly `rules` rules (gaps not counted)."""
    rng = random.Random(seed)
    out: list[str] = [
        f'policy bench.generated_{rules} {{ title "Generated, {rules} rules" version "1.0" }}',
        "",
    ]
    n_evidence = max(3, rules // 10)
    for i in range(1, n_evidence + 1):
        out.append(
            f'evidence {i} {{ citation "Generated source {i}" grade strong certainty moderate }}'
        )
    out.append("")

    # Input facts: about one per four rules, of every type.
    n_facts = max(8, rules // 4)
    facts: list[tuple[str, str]] = []  # (name, kind)
    for i in range(n_facts):
        kind = ("bool", "integer", "number", "enum", "set", "date", "string")[i % 7]
        name = f"f{i}"
        facts.append((name, kind))
        spec = {
            "bool": "bool",
            "integer": "integer in 0..120",
            "number": "number [mg/dL] in 0..500",
            "enum": "enum { va, vb, vc, vd }",
            "set": "set of { sa, sb, sc }",
            "date": "date",
            "string": "string",
        }[kind]
        out.append(f'fact {name}: {spec} "Generated fact {i}"')

    # Derived facts, each with an enum selector fact that keeps its derivers exclusive.
    derive_rules = rules * 3 // 10
    n_derived = max(1, derive_rules // DERIVERS_PER_FACT)
    for d in range(n_derived):
        selectors = ", ".join(f"s{k}" for k in range(DERIVERS_PER_FACT))
        out.append(f'fact sel{d}: enum {{ {selectors} }} "Selector {d}"')
        out.append(f'derived d{d}: enum {{ low, mid, high }} "Derived {d}"')
    out.append("")

    def leaf(name: str, kind: str) -> str:
        if kind == "bool":
            return rng.choice([name, f"not {name}", f"{name} is known"])
        if kind == "integer":
            return f"{name} {rng.choice(['<', '>=', '=='])} {rng.randrange(1, 119)}"
        if kind == "number":
            return f"{name} > {rng.randrange(1, 499)}.5 [mg/dL]"
        if kind == "enum":
            return rng.choice([f"{name} == vb", f"{name} in {{ va, vc }}", f"{name} != vd"])
        if kind == "set":
            return f"{name} contains {rng.choice(['sa', 'sb', 'sc'])}"
        if kind == "date":
            return f"{name} < 2025-0{rng.randrange(1, 9)}-15"
        return f'{name} == "text {rng.randrange(100)}"'

    def condition(count: int) -> str:
        chosen = rng.sample(facts, count)
        parts = [leaf(n, k) for n, k in chosen]
        if count >= 3 and rng.random() < 0.5:
            return f"{parts[0]} and ({parts[1]} or {parts[2]})" + "".join(
                f" and {p}" for p in parts[3:]
            )
        return " and ".join(parts)

    # Plan the rules: derive groups first in each section block, then conclusions.
    plan: list[str] = []
    for d in range(n_derived):
        for k in range(DERIVERS_PER_FACT):
            plan.append(f"derive:{d}:{k}")
    plan = plan[:derive_rules]
    while len(plan) < rules:
        plan.append("conclude")
    made = 0
    section = 0
    derivers: dict[str, list[str]] = {}
    previous_in_section: str | None = None
    for index, item in enumerate(plan):
        if index % RULES_PER_SECTION == 0:
            if index:
                out.append("}")
                out.append("")
            out.append(f'section "Part {section}" {{')
            section += 1
            previous_in_section = None
        evidence = rng.randrange(1, n_evidence + 1)
        rule_id = f"part{section}.r{index}"
        body = [f'    statement "Generated statement {index}."', f"    evidence {evidence}"]
        if item.startswith("derive:"):
            _, d, k = item.split(":")
            value = ("low", "mid", "high")[int(k) % 3]
            selector = f"sel{d} == s{k}"
            extra = condition(rng.randrange(1, 3))
            body.append(f"    when {selector} and {extra}")
            body.append(f"    derive d{d} = {value}")
            if int(k) > 0:
                # a precedence chain through the group: the closure has ~k²/2 pairs per group
                body.append(f"    overrides {derivers[d][-1]}")
            derivers.setdefault(d, []).append(rule_id)
        else:
            reads = condition(rng.randrange(2, 5))
            if n_derived and rng.random() < 0.3:
                reads += f" and d{rng.randrange(n_derived)} == high"
            body.append(f"    when {reads}")
            if previous_in_section is not None and rng.random() < 0.2:
                body.append(f"    after {previous_in_section}")
            kind = rng.random()
            if kind < 0.6:
                body.append(f'    recommend "Generated action {index}"')
                body.append("    strength recommended")
            else:
                body.append(f'    caution "Generated caution {index}"')
            previous_in_section = rule_id
        out.append(f"  rule {rule_id} {{")
        out.extend(body)
        out.append("  }")
        made += 1
    out.append("}")
    assert made == rules
    return "\n".join(out) + "\n"


# --- timing -------------------------------------------------------------------------------------


def median_seconds(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds of `runs` calls.

    Both are reported: on a shared machine the wall clock includes time spent waiting for a core,
    while the process's CPU time does not.
    """
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def check_folder(path: Path) -> CheckResult:
    return check_paths([path])


def errors_of(result: CheckResult) -> list[str]:
    return [
        f"{d.span}: {d.message} [{d.code}]"
        for d in result.diagnostics
        if d.severity is Severity.ERROR
    ]


def phases(text: str) -> tuple[float, float, float]:
    """CPU seconds spent parsing, resolving and analysing one text (a single run)."""
    source = SourceFile.from_text("bench.rules", text)
    start = time.process_time()
    module, _ = parse(source)
    parsed = time.process_time()
    assert module is not None
    with gc_paused():  # as `check` runs them
        resolver = Resolver()
        draft = resolver.resolve(module.items)
        resolved = time.process_time()
        analyse(draft)
        done = time.process_time()
    return parsed - start, resolved - parsed, done - resolved


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> list[str]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count() or 0
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return [
        f"- CPU: {cpu_model()}",
        f"- `nproc`: {usable}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        f"- Platform: {platform.platform()}",
        f"- Load average when the run started: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    ]


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--quick", action="store_true", help="fewer runs, up to 1,000 rules")
    options.add_argument("--no-write", action="store_true", help="print only, keep RESULTS")
    args = options.parse_args()
    runs = 3 if args.quick else 7
    sizes = (100, 1_000) if args.quick else (100, 1_000, 10_000)

    report: list[str] = ["# `leukorules check` benchmark", "", *machine(), ""]
    print("\n".join(report))

    # Warm up: build the parser and import everything once.
    check_paths([BUNDLED]) if any(BUNDLED.glob("*.rules")) else None

    lines: list[str] = []
    if any(BUNDLED.glob("*.rules")):
        result = check_folder(BUNDLED)
        if errors_of(result):
            print("\n".join(errors_of(result)))
        bundled_rules = len(result.policy.rules) if result.policy else 0
        wall, cpu = median_seconds(lambda: check_folder(BUNDLED), runs * 3)
        verdict = "meets" if wall < 0.100 else "MISSES"
        lines += [
            "## Bundled policy",
            "",
            f"`{BUNDLED.relative_to(REPO)}/`: {len(result.sources)} files, {bundled_rules} rules.",
            f"Parse + check, warm, median of {runs * 3} runs: **{wall * 1000:.1f} ms** wall clock "
            f"({verdict} the 100 ms target), {cpu * 1000:.1f} ms of CPU time.",
            "",
        ]
    else:
        lines += [
            "## Bundled policy",
            "",
            f"`{BUNDLED.relative_to(REPO)}/` holds no policy yet; the 100-rule generated policy "
            "below stands in for it.",
            "",
        ]
    print("\n".join(lines))
    report += lines

    table = [
        "## Generated policies",
        "",
        f"`check_paths` on one generated file: median of {runs} warm runs (3 for 10,000 rules), "
        "wall clock and CPU time; the phase columns are the CPU time of one run of each stage "
        "on its own. Growth compares CPU time with the previous size.",
        "",
        "| rules | lines | wall | CPU | CPU per rule | parse | resolve | analyse | growth |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    print("\n".join(table))
    previous: tuple[int, float] | None = None
    largest = (0.0, 0.0)
    exponents: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            text = generate_policy(size)
            path = Path(folder) / f"generated_{size}.rules"
            path.write_text(text, encoding="utf-8")
            result = check_paths([path])
            problems = errors_of(result)
            if problems:
                print("generated policy has errors:\n" + "\n".join(problems[:20]))
                return 1
            repeat = 3 if size >= 10_000 else runs
            wall, cpu = median_seconds(lambda p=path: check_paths([p]), repeat)
            parse_s, resolve_s, analyse_s = phases(text)
            growth = "–"
            if previous is not None:
                exponent = math.log(cpu / previous[1]) / math.log(size / previous[0])
                exponents.append(exponent)
                growth = f"×{cpu / previous[1]:.1f} for ×{size // previous[0]} (n^{exponent:.2f})"
            row = (
                f"| {size:,} | {text.count(chr(10)):,} | {wall:.3f} s | {cpu:.3f} s | "
                f"{cpu / size * 1000:.2f} ms | {parse_s:.3f} s | {resolve_s:.3f} s | "
                f"{analyse_s:.3f} s | {growth} |"
            )
            print(row)
            table.append(row)
            previous = (size, cpu)
            largest = (wall, cpu)
    linear = all(e < 1.15 for e in exponents)
    summary = [
        f"Growth is {'linear' if linear else 'NOT linear'}: the CPU-time exponent between sizes "
        "is " + ", ".join(f"{e:.2f}" for e in exponents) + " (1.00 is linear).",
    ]
    if not args.quick:
        verdict = "meets" if largest[0] < 10 else "MISSES"
        summary.append(
            f"10,000 rules: {largest[0]:.2f} s wall clock ({verdict} the 10 s target), "
            f"{largest[1]:.2f} s CPU."
        )
    print("\n" + "\n".join(summary))
    report += [*table, "", *summary, ""]
    if not args.no_write:
        RESULTS.write_text("\n".join(report), encoding="utf-8")
        print(f"\nwrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
