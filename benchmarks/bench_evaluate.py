"""Per-patient speed of `decide` and `evaluate` on the bundled policy, and `leukorules evaluate`
wall time, as ratios measured in one run (issue 5, "Per-patient speed").

    python benchmarks/bench_evaluate.py            # writes benchmarks/RESULTS-evaluate.md
    python benchmarks/bench_evaluate.py --no-write # print only

The floor is `benchmarks/handwritten.py` (the bundled policy written by hand, shared with
`run.py`); it is checked against `decide` on a seeded cohort of 3,000 generated patients before
anything is timed. Engines take turns over chunks of 50 patients; medians of many chunks.
`evaluate` builds its pydantic entries on first read, so it is also timed together with
`model_dump_json()` (what the CLI and the audit log pay).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import patients  # noqa: E402
from handwritten import decide as handwritten  # noqa: E402
from run import interleaved_latency  # noqa: E402

FACTS = HERE.parent / "examples" / "patients" / "adem-steroid-nonresponder.yaml"


def cli_times(runs: int) -> dict[str, float]:
    """Median wall time (ms) of each command, taking turns."""
    evaluate = [sys.executable, "-m", "leukorules", "evaluate", str(FACTS)]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import click'": [sys.executable, "-c", "import click"],
        "leukorules evaluate (cached policy)": evaluate,
        "leukorules evaluate --format json (cached policy)": [*evaluate, "--format", "json"],
        "leukorules evaluate --format json --trace (cached policy)": [
            *evaluate,
            "--format",
            "json",
            "--trace",
        ],
        "leukorules evaluate (LEUKORULES_NO_CACHE=1)": evaluate,
    }
    env = dict(os.environ)
    env.pop("LEUKORULES_NO_CACHE", None)
    # As an installed package runs: pip compiles every module to bytecode when it installs
    # one, so the CLI is timed with bytecode written and used (the warm-up run writes it).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    no_cache = {**env, "LEUKORULES_NO_CACHE": "1"}
    subprocess.run(commands["leukorules evaluate (cached policy)"], env=env, capture_output=True)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(
                command,
                env=no_cache if "NO_CACHE" in name else env,
                capture_output=True,
                check=True,
            )
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), load average {load:.2f} at start; "
        f"hyperfine {'available' if shutil.which('hyperfine') else 'not used'}; CLI runs use "
        "bytecode, as an installed package does"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--cli-runs", type=int, default=15)
    args = parser.parse_args(argv)

    from leukorules import load_policy

    policy = load_policy()
    cohort = patients(policy.policy, 3000, seed=11)
    wrong = sum(1 for p in cohort if handwritten(p) != policy.decide(p))
    if wrong:
        print(f"hand-written function disagrees with decide on {wrong} patients", file=sys.stderr)
        return 1
    engines: dict[str, Callable[[Any], Any]] = {
        "hand-written": handwritten,
        "decide": policy.decide,
        "evaluate": policy.evaluate,
        "evaluate + model_dump_json()": lambda p: policy.evaluate(p).model_dump_json(),
        "evaluate(trace=True), trace read": lambda p: policy.evaluate(p, trace=True).trace,
        "evaluate(trace=True) + model_dump_json()": lambda p: policy.evaluate(
            p, trace=True
        ).model_dump_json(),
    }
    sample = cohort[:500]
    for fn in engines.values():  # warm: memo tables, pydantic schemas
        for p in sample:
            fn(p)
    found = interleaved_latency(engines, sample, args.seconds)
    floor = found["hand-written"]
    cli = cli_times(args.cli_runs)
    lines = [
        "# `decide`, `evaluate` and `leukorules evaluate`: speed on the bundled policy",
        "",
        f"Machine: {machine()}. Command: `python benchmarks/bench_evaluate.py`.",
        "",
        f"Hand-written function verified equal to `decide` on {len(cohort):,} seeded patients.",
        "",
        "| path | median µs / patient | ratio to hand-written |",
        "|---|---:|---:|",
    ]
    for name, value in found.items():
        lines.append(f"| {name} | {value:,.2f} | {value / floor:,.1f}x |")
    lines += [
        "",
        "`evaluate` computes every outcome, the because and chain of every reported fired rule,",
        "the missing facts of every undetermined one, derivations and gaps: the generated core",
        "computes most of it (`leukorules/engine/supports.py`), the rest is per-policy tables.",
        "The pydantic entries, the facts hash and, with `trace=True`, each rule's why-not are",
        "built on first read (reading `.trace` builds them all), so the rows with a read or a",
        "dump are what a caller that reads the whole result pays. `model_dump_json()` without",
        "options skips pydantic's wrap serializer (same bytes, tested).",
        "",
        "The text, markdown and json formats of the CLI render an attribute-only view of the",
        "result and never import pydantic (json: `leukorules/report/json_writer.py`, the same",
        "bytes as `model_dump_json(indent=2)`, tested); html and --log build the pydantic model.",
        "",
        "| command | median wall ms |",
        "|---|---:|",
    ]
    for name, value in cli.items():
        lines.append(f"| `{name}` | {value:,.0f} |")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        (HERE / "RESULTS-evaluate.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
