"""Cohort runs of the duckdb engine against the hand-written loop, in one run (issue 13's targets).

    python benchmarks/bench_cohort.py                 # 1M JSON Lines and Parquet, 10M Parquet
    python benchmarks/bench_cohort.py --rows 200000 --no-10m --rounds 1   # a quick look

Measures, interleaved round by round so that other work on the machine falls on all alike:

- the hand-written loop: each line of the 1M-row JSON Lines cohort read with `json.loads` and
  decided by `benchmarks/handwritten.py` (`decide`), in a process of its own;
- `leukorules batch COHORT.jsonl --out results.parquet --engine duckdb`;
- `leukorules batch COHORT.parquet --out results.parquet --engine duckdb`;

then once, `leukorules batch` of a 10M-row Parquet cohort (duckdb engine, Parquet results), with
the peak resident memory of its process tree: the RSS of the process and of every descendant,
read from /proc every 50 ms and summed (`run.tree_rss`). Each figure comes with its wall time,
its CPU time (user + system of the process and its children) and the load average when it ran:
the machine is shared, so compare ratios taken in the same round. The package is byte-compiled
first, as an installed one is. Cohorts are generated into
--data (default /tmp/leukorules-bench-cohort) and deleted at the end unless --keep is given.
Writes benchmarks/RESULTS-cohort.md (or --out).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import machine, run_measured, table, write_cohort  # noqa: E402

HAND_LOOP = """
import json, sys
sys.path.insert(0, {here!r})
from handwritten import decide
with open({path!r}, "rb") as handle:
    for line in handle:
        decide(json.loads(line))
"""


@dataclass
class Measured:
    label: str
    seconds: float
    cpu: float
    peak_rss: int
    load: float
    ok: bool
    detail: str = ""


def measure(label: str, args: list[str]) -> Measured:
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = run_measured(args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    detail = "" if run.returncode == 0 else run.stderr.strip()[-300:]
    return Measured(label, run.seconds, cpu, run.peak_rss, load, run.returncode == 0, detail)


def batch_args(cohort: Path, out: Path) -> list[str]:
    command = [sys.executable, "-m", "leukorules", "batch", str(cohort), "--out", str(out)]
    return [*command, "--engine", "duckdb"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-10m", action="store_true", help="skip the 10M-row memory run")
    parser.add_argument("--data", type=Path, default=Path("/tmp/leukorules-bench-cohort"))
    parser.add_argument("--keep", action="store_true", help="keep the generated cohorts")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS-cohort.md")
    args = parser.parse_args(argv)

    from leukorules import load_policy

    policy = load_policy().policy
    args.data.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # As an installed package is: byte-compiled (with PYTHONDONTWRITEBYTECODE set, as on this
    # machine, a source checkout is compiled again by every process, about 0.1 s of start-up).
    import compileall

    import leukorules

    compileall.compile_dir(str(Path(leukorules.__file__).parent), quiet=1)
    print(f"generating {args.rows:,}-row cohorts in {args.data} ...", file=sys.stderr)
    jsonl = write_cohort(policy, args.rows, args.data / f"bundled-{args.rows}.jsonl", "jsonl")
    parquet = write_cohort(policy, args.rows, args.data / f"bundled-{args.rows}.parquet", "parquet")
    out = args.data / "results.parquet"
    hand = [sys.executable, "-c", HAND_LOOP.format(here=str(HERE), path=str(jsonl))]
    plan = [
        ("hand-written loop (json.loads + decide), JSON Lines", hand),
        ("duckdb engine, JSON Lines -> Parquet", batch_args(jsonl, out)),
        ("duckdb engine, Parquet -> Parquet", batch_args(parquet, out)),
    ]
    rounds: list[list[Measured]] = []
    for number in range(args.rounds):
        print(f"round {number + 1} of {args.rounds} ...", file=sys.stderr)
        rounds.append([measure(label, command) for label, command in plan])
    big: Measured | None = None
    if not args.no_10m:
        free = shutil.disk_usage(args.data).free
        print(f"10M rows: {free / 2**30:,.1f} GiB free in {args.data}", file=sys.stderr)
        if free < 4 * 2**30:
            print("not enough free space for the 10M-row run; skipped", file=sys.stderr)
        else:
            ten = args.data / "bundled-10000000.parquet"
            cohort = write_cohort(policy, 10_000_000, ten, "parquet")
            big = measure("duckdb engine, 10M-row Parquet -> Parquet", batch_args(cohort, out))

    lines = ["# Cohort runs: the duckdb engine against the hand-written loop", ""]
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python benchmarks/bench_cohort.py", *given])
    lines.append(f"Command: `{command}`")
    lines += ["", "## Machine", "", *machine(), ""]
    lines += [f"## {args.rows:,} patients, {args.rounds} rounds (median of each)", ""]
    lines.append(
        "Wall and CPU seconds of the whole process (for `leukorules batch`: start-up, policy "
        "load, reading, evaluation, the results and errors files, the summary); load: the "
        "1-minute load average when the run started, per round. The ratio is the hand loop's "
        "median wall time over the engine's, both taken in the same rounds; each round also "
        "gives its own ratio (the hand loop's wall time in that round over the engine's), and "
        "the median and range of those are shown beside it: the machine's speed drifts from "
        "minute to minute, and a round's runs follow each other."
    )
    lines.append("")
    rows = []
    hand_wall = statistics.median(r[0].seconds for r in rounds)
    hand_cpu = statistics.median(r[0].cpu for r in rounds)
    for index, (label, _) in enumerate(plan):
        runs = [r[index] for r in rounds]
        if not all(run.ok for run in runs):
            failed = next(run for run in runs if not run.ok)
            rows.append([label, "failed", failed.detail, "", "", "", "", ""])
            continue
        wall = statistics.median(run.seconds for run in runs)
        cpu = statistics.median(run.cpu for run in runs)
        paired = sorted(r[0].seconds / r[index].seconds for r in rounds)
        rows.append(
            [
                label,
                f"{wall:,.1f}",
                f"{cpu:,.1f}",
                f"{args.rows / wall:,.0f}",
                f"{hand_wall / wall:.2f}x",
                f"{hand_cpu / cpu:.2f}x",
                f"{statistics.median(paired):.2f}x ({paired[0]:.2f}x-{paired[-1]:.2f}x)",
                " / ".join(f"{run.load:.1f}" for run in runs),
            ]
        )
    lines += table(
        [
            "run",
            "wall s",
            "CPU s",
            "patients / s",
            "speed vs hand loop (wall)",
            "(CPU)",
            "per round (median, range)",
            "load per round",
        ],
        rows,
    )
    lines.append("")
    if big is not None:
        lines += ["## 10,000,000 patients, Parquet -> Parquet (duckdb engine)", ""]
        if big.ok:
            lines.append(
                f"{big.seconds:,.1f} s wall, {big.cpu:,.1f} s CPU, "
                f"{10_000_000 / big.seconds:,.0f} patients/s; peak RSS of the process tree "
                f"{big.peak_rss / 2**20:,.0f} MiB (sampled every 50 ms from /proc); load "
                f"{big.load:.1f} at start."
            )
        else:
            lines.append(f"failed: {big.detail}")
        lines.append("")
    lines.append(f"Total benchmark time: {time.perf_counter() - started:,.0f} s.")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    if not args.keep:
        shutil.rmtree(args.data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
