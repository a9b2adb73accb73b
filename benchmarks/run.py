"""Benchmarks of leukorules against a hand-written function and peer engines, in one run.

    python benchmarks/run.py --quick        # a few minutes: small cohorts, 30/300 rules
    python benchmarks/run.py                # the full run: 3,000 rules, 1M and 10M patients

Writes `benchmarks/RESULTS.md` (or --out) with the machine, then ratio tables: per-patient median
latency (leukorules `decide`/`evaluate`, the hand-written floor, every peer that agrees with
leukorules on every patient), compile time, cohort throughput and peak memory of `leukorules
batch` on both engines, and the issue's targets checked. Every ratio compares numbers taken in
this same run, engines interleaved round by round so that noise from other work on the machine
falls on all of them alike. Large cohorts are generated into --data (default /tmp), never into
the repository. Peers must be installed (`pip install -e '.[bench]'`); a missing one is reported.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import handstyle_function, patients, policy_text  # noqa: E402

from leukorules import model as m  # noqa: E402
from leukorules.cohort.runner import default_errors_path  # noqa: E402

Decide = Callable[[Mapping[str, Any]], Any]


# --- measuring ---------------------------------------------------------------------------------


def interleaved_latency(
    engines: Mapping[str, Decide], cohort: Sequence[Mapping[str, Any]], seconds: float
) -> dict[str, float]:
    """Median per-patient time (µs) of each engine over chunks of 50 patients, taking turns."""
    samples = interleaved_samples(engines, cohort, seconds)
    return {name: statistics.median(values) for name, values in samples.items()}


def interleaved_samples(
    engines: Mapping[str, Decide], cohort: Sequence[Mapping[str, Any]], seconds: float
) -> dict[str, list[float]]:
    """Per-patient time (µs) of each engine on each chunk of 50 patients, taking turns: the
    k-th sample of every engine comes from the same chunk, timed one after the other."""
    samples: dict[str, list[float]] = {name: [] for name in engines}
    chunks = [cohort[i : i + 50] for i in range(0, len(cohort), 50)]
    deadline = time.perf_counter() + seconds
    rounds = 0
    while rounds < 3 or time.perf_counter() < deadline:
        for chunk in chunks:
            for name, fn in engines.items():
                start = time.perf_counter_ns()
                for patient in chunk:
                    fn(patient)
                samples[name].append((time.perf_counter_ns() - start) / len(chunk) / 1000)
            if rounds >= 3 and time.perf_counter() > deadline:
                break
        rounds += 1
    return samples


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(c) for c in children)
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Run:
    seconds: float
    peak_rss: int
    returncode: int
    stdout: str = ""
    stderr: str = ""


def run_measured(args: list[str], timeout: float = 3600) -> Run:
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        done.set()
        sampler.join()
    return Run(time.perf_counter() - start, peak[0], process.returncode, stdout, stderr)


# --- workloads --------------------------------------------------------------------------------


@dataclass
class Workload:
    label: str
    policy: m.Policy
    check_seconds: float
    floor: Decide
    floor_kind: str
    extra: dict[str, Any] = field(default_factory=dict)


def load_workloads(sizes: Sequence[int]) -> list[Workload]:
    from handwritten import decide as handwritten

    from leukorules.check import check_paths, check_text
    from leukorules.syntax.grammar import bundled_policy_dir

    found = []
    seconds, result = timed(lambda: check_paths([bundled_policy_dir()]), repeat=1)
    assert result.policy is not None
    found.append(Workload("bundled", result.policy, seconds, handwritten, "hand-written"))
    for size in sizes:
        text = policy_text(size)
        name = f"generated-{size}.rules"
        seconds, result = timed(lambda text=text, name=name: check_text(text, name), 1)
        assert result.policy is not None, [d.message for d in result.diagnostics][:3]
        found.append(
            Workload(
                f"generated {size}",
                result.policy,
                seconds,
                handstyle_function(result.policy),
                "hand-style generated",
            )
        )
    return found


def build_peers(policy: m.Policy, names: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
    from peers import BUILDERS, Translator

    built: dict[str, Any] = {}
    problems: dict[str, str] = {}
    decisions = Translator(policy).decisions()
    for name in names:
        try:
            seconds, peer = timed(lambda name=name: BUILDERS[name](decisions, policy), 1)
        except ImportError as error:
            problems[name] = f"not installed ({error.name or error})"
            continue
        except Exception as error:  # a peer that cannot take the rules is reported, not fatal
            problems[name] = f"cannot express the rules: {type(error).__name__}: {error}"
            continue
        built[name] = (peer, seconds)
    return built, problems


# --- report -----------------------------------------------------------------------------------


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores visible; memory {memory}",
        f"- load average at start: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        "(the machine is shared; compare ratios, not absolute times)",
        f"- {platform.python_implementation()} {platform.python_version()} on {platform.system()} "
        f"{platform.release()}",
        f"- date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
    ]


def versions(names: Sequence[str]) -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for name in names:
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    return ", ".join(parts)


def fmt_us(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:,.0f}x"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


# --- sections ---------------------------------------------------------------------------------


def latency_section(
    workloads: Sequence[Workload], peer_names: Sequence[str], cohort_size: int, seconds: float
) -> tuple[list[str], dict[str, Any]]:
    from leukorules.engine.compile import CompiledPolicy

    lines: list[str] = []
    facts: dict[str, Any] = {}
    compile_rows: list[list[str]] = []
    growth: list[list[str]] = []
    for work in workloads:
        policy = work.policy
        compile_seconds, compiled = timed(lambda p=policy: CompiledPolicy(p), 1)
        # Every patient timed is first checked; a 3,000-rule policy is timed on 100 patients
        # (checking a peer on more would take longer than the rest of the benchmark).
        cohort = patients(policy, cohort_size if len(policy.rules) < 1000 else 100, seed=11)
        reference = [compiled.decide(p) for p in cohort]
        engines: dict[str, Decide] = {
            work.floor_kind: work.floor,
            "leukorules decide": compiled.decide,
            "leukorules evaluate": compiled.evaluate,
            # what a caller that reads or stores the whole result pays (entries are built lazily)
            "leukorules evaluate + JSON": lambda p, c=compiled: c.evaluate(p).to_json(),
        }
        if len(policy.rules) < 1000:  # the trace of 3,000 rules takes seconds per patient
            # the trace is built when first read
            engines["leukorules evaluate (trace read)"] = lambda p, c=compiled: (
                c.evaluate(p, trace=True).trace
            )
        disagreements: dict[str, str] = {}
        if any(work.floor(p) != r for p, r in zip(cohort, reference, strict=True)):
            disagreements[work.floor_kind] = "disagrees with leukorules"
        peers, problems = build_peers(policy, peer_names)
        peer_compile: dict[str, float] = {}
        for name, (peer, built_seconds) in peers.items():
            wrong = sum(1 for p, r in zip(cohort, reference, strict=True) if peer.decide(p) != r)
            if wrong:
                problems[name] = f"disagrees with leukorules on {wrong} of {len(cohort)} patients"
                continue
            engines[name] = peer.decide
            peer_compile[name] = built_seconds
        budget = seconds if len(policy.rules) < 1000 else seconds / 2
        slow = {
            n: f
            for n, f in engines.items()
            if n in ("rule-engine", "json-logic-qubit")
            or (
                len(policy.rules) >= 1000
                and n in ("cedarpy", "leukorules evaluate", "leukorules evaluate + JSON")
            )
        }
        sample = cohort if len(policy.rules) < 1000 else cohort[:100]
        medians = interleaved_latency(
            {n: f for n, f in engines.items() if n not in slow}, sample, budget
        )
        floor = medians[work.floor_kind]
        ratios = {name: value / floor for name, value in medians.items()}
        if slow:
            # The slow engines get their own interleaved run, with the floor timed alongside
            # them again; their ratios are to that floor.
            slow_sample = sample[:100] if len(policy.rules) < 1000 else sample[:20]
            slow_medians = interleaved_latency(
                {work.floor_kind: work.floor, **slow}, slow_sample, budget / 2
            )
            for name in slow:
                medians[name] = slow_medians[name]
                ratios[name] = slow_medians[name] / slow_medians[work.floor_kind]
        rows = []
        for name, value in sorted(medians.items(), key=lambda i: i[1]):
            rows.append([name, fmt_us(value), fmt_ratio(ratios[name]), f"{1e6 / value:,.0f}"])
        lines.append(f"### {work.label} ({len(policy.rules)} rules, {len(policy.facts)} facts)")
        lines.append("")
        lines += table(
            [
                "engine",
                "median µs / patient",
                f"ratio to {work.floor_kind}",
                "patients / s (1 core)",
            ],
            rows,
        )
        for name, problem in {**disagreements, **problems}.items():
            lines.append(f"\n- {name}: not timed — {problem}")
        lines.append("")
        facts[work.label] = {
            "medians": medians,
            "ratios": ratios,
            "floor": floor,
            "problems": problems,
        }
        compile_rows.append(
            [
                work.label,
                f"{work.check_seconds * 1000:,.0f}",
                f"{compile_seconds * 1000:,.1f}",
                ", ".join(f"{n} {s * 1000:,.0f}" for n, s in peer_compile.items()) or "-",
            ]
        )
        growth.append(
            [
                str(len(policy.rules)),
                fmt_us(floor),
                fmt_us(medians["leukorules decide"]),
                fmt_us(medians["leukorules evaluate"]),
                fmt_ratio(ratios["leukorules decide"]),
            ]
        )
    lines.append("### Compile time (ms)")
    lines.append("")
    lines += table(
        ["workload", "leukorules check (parse+check)", "leukorules compile", "peers (build)"],
        compile_rows,
    )
    lines.append("")
    lines.append("### Growth with rule count")
    lines.append("")
    lines += table(["rules", "floor µs", "decide µs", "evaluate µs", "decide / floor"], growth)
    lines.append("")
    return lines, facts


def write_cohort(policy: m.Policy, n: int, path: Path, fmt: str) -> Path:
    """A seeded cohort of n patients (ids p0..), written in chunks so memory stays small."""
    if path.exists():
        return path
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    from leukorules.cohort.schema import fact_arrow_type

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    schema = pa.schema(
        [("id", pa.string())] + [(f.name, fact_arrow_type(f.type)) for f in policy.input_facts]
    )
    chunk = 200_000
    writer = pq.ParquetWriter(temporary, schema) if fmt == "parquet" else None
    handle = temporary.open("w", encoding="utf-8") if fmt == "jsonl" else None
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        rows = patients(policy, min(size, 5000), seed=start + 1)
        rows = [rows[i % len(rows)] for i in range(size)]
        if writer is not None:
            columns = {"id": [f"p{start + i}" for i in range(size)]}
            for fact in policy.input_facts:
                columns[fact.name] = [r.get(fact.name) for r in rows]
            writer.write_table(pa.table(columns, schema=schema), row_group_size=100_000)
        else:
            assert handle is not None
            handle.write(
                "".join(json.dumps({"id": f"p{start + i}", **r}) + "\n" for i, r in enumerate(rows))
            )
    if writer is not None:
        writer.close()
    if handle is not None:
        handle.close()
    temporary.rename(path)
    return path


Plan = list[tuple[str, int, str, str]]  # (policy label, patients, format, engine)


def batch_plan(quick: bool, python_10m: bool) -> Plan:
    plan: Plan = []
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    for label in ("bundled", "generated 300"):
        for n in sizes:
            for fmt in ("parquet", "jsonl"):
                for engine in ("duckdb", "python"):
                    if label == "generated 300" and n >= 1_000_000 and engine == "python":
                        continue  # about 15 minutes at the rate the 100,000 run shows
                    if n >= 1_000_000 and fmt == "jsonl" and engine == "python":
                        continue
                    plan.append((label, n, fmt, engine))
    if not quick:
        plan.append(("bundled", 10_000_000, "parquet", "duckdb"))
        if python_10m:
            plan.append(("bundled", 10_000_000, "parquet", "python"))
    return plan


def batch_section(
    data: Path, plan: Plan, policy_files: dict[str, Path | None]
) -> tuple[list[str], dict[str, Any]]:
    from leukorules.check import check_paths
    from leukorules.syntax.grammar import bundled_policy_dir

    facts: dict[str, Any] = {}
    rows: list[list[str]] = []
    policies: dict[str, m.Policy] = {}
    for label, n, fmt, engine in plan:
        policy_file = policy_files[label]
        if label not in policies:
            loaded = check_paths([policy_file] if policy_file else [bundled_policy_dir()])
            assert loaded.policy is not None
            policies[label] = loaded.policy
        name = f"{label.replace(' ', '-')}-{n}.{fmt}"
        print(f"  {name} {engine}", file=sys.stderr)
        cohort = write_cohort(policies[label], n, data / name, fmt)
        out = data / f"results-{engine}-{n}.parquet"
        args = [sys.executable, "-m", "leukorules", "batch", str(cohort), "--out", str(out)]
        args += ["--engine", engine]
        jobs = 2 if engine == "python" else None
        if jobs:
            args += ["--jobs", str(jobs)]
        if policy_file:
            args += ["--policy", str(policy_file)]
        run = run_measured(args)
        ok = run.returncode == 0
        rate = n / run.seconds if ok else 0.0
        facts[f"{label} / {n} / {fmt} / {engine}"] = {
            "seconds": run.seconds,
            "peak_rss": run.peak_rss,
            "ok": ok,
        }
        rows.append(
            [
                label,
                f"{n:,}",
                fmt,
                engine + (f" ({jobs} jobs)" if jobs else " (all threads)"),
                f"{run.seconds:,.1f}" if ok else f"failed: {run.stderr.strip()[-200:]}",
                f"{rate:,.0f}",
                f"{run.peak_rss / 2**20:,.0f}",
            ]
        )
        out.unlink(missing_ok=True)
        default_errors_path(out).unlink(missing_ok=True)
    lines = table(
        ["policy", "patients", "cohort", "engine", "wall s", "patients / s", "peak RSS MiB"], rows
    )
    lines.append("")
    return lines, facts


def cli_section(repeat: int = 7) -> tuple[list[str], float]:
    import tempfile

    facts_file = Path(tempfile.mkdtemp()) / "patient.json"
    facts_file.write_text(json.dumps({"leukoencephalopathy_type": "pml", "hiv_positive": True}))
    times = []
    for _ in range(repeat):
        run = run_measured([sys.executable, "-m", "leukorules", "evaluate", str(facts_file)])
        if run.returncode not in (0,):
            return [f"`leukorules evaluate` failed: {run.stderr.strip()[-300:]}"], float("nan")
        times.append(run.seconds)
    median = statistics.median(times)
    line = (
        f"`leukorules evaluate patient.json` (bundled policy, via `python -m leukorules`): "
        f"median wall time {median:.3f} s over {repeat} runs (min {min(times):.3f} s)"
    )
    return [line, ""], median


def targets_section(raw: Mapping[str, Any]) -> list[str]:
    """The issue's targets, checked against the numbers of this run."""
    rows: list[list[str]] = []

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else "met" if ok else "**missed**"

    bundled = raw.get("latency", {}).get("bundled")
    if bundled:
        for name, limit in (("leukorules decide", 2.0), ("leukorules evaluate", 10.0)):
            ratio = bundled["ratios"][name]
            rows.append(
                [
                    f"`{name.split()[1]}` within {limit:g}x of hand-written (bundled)",
                    fmt_ratio(ratio),
                    verdict(ratio <= limit),
                ]
            )
    cli = raw.get("cli_seconds")
    measured = isinstance(cli, float) and cli == cli
    rows.append(
        [
            "`leukorules evaluate` wall time < 0.4 s",
            f"{cli:.3f} s" if measured else "-",
            verdict(cli < 0.4 if measured else None),
        ]
    )
    batch = raw.get("batch", {})

    def find(n: int, fmt: str, engine: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = batch.get(f"bundled / {n} / {fmt} / {engine}")
        return result

    for engine, limit in (("duckdb", 30.0), ("python", 180.0)):
        got = find(1_000_000, "parquet", engine)
        label = f"1,000,000 patients, {engine}{' (2 jobs)' if engine == 'python' else ''}"
        rows.append(
            [
                f"{label} < {limit:g} s",
                f"{got['seconds']:,.1f} s" if got else "-",
                verdict(got["ok"] and got["seconds"] < limit if got else None),
            ]
        )
    for engine in ("duckdb", "python"):
        got = find(10_000_000, "parquet", engine)
        rows.append(
            [
                f"peak memory < 1 GiB, 10,000,000-row Parquet, {engine}",
                f"{got['peak_rss'] / 2**20:,.0f} MiB" if got else "-",
                verdict(got["ok"] and got["peak_rss"] < 2**30 if got else None),
            ]
        )
    return ["## Targets", "", *table(["target", "measured", "verdict"], rows), ""]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--data", type=Path, default=Path("/tmp/leukorules-bench"))
    parser.add_argument("--json", type=Path, default=None, help="also write raw numbers here")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument(
        "--python-10m",
        action="store_true",
        help="also run the python engine on the 10,000,000-row cohort (about 40 minutes)",
    )
    args = parser.parse_args(argv)

    sizes = [30, 300] if args.quick else [30, 300, 3000]
    peer_names = ["cedarpy", "zen-engine", "rule-engine", "json-logic"]
    seconds = 1.5 if args.quick else 4.0
    started = time.perf_counter()
    report: list[str] = ["# Benchmark results", ""]
    report.append(f"Command: `python benchmarks/run.py{' --quick' if args.quick else ''}`")
    report.append("")
    report += ["## Machine", "", *machine()]
    report.append(
        "- packages: "
        + versions(
            [
                *("leukorules", "duckdb", "pyarrow", "cedarpy", "zen-engine", "rule-engine"),
                *("json-logic", "json-logic-qubit"),
            ]
        )
    )
    report.append("")
    raw: dict[str, Any] = {}

    print("per-patient latency ...", file=sys.stderr)
    workloads = load_workloads(sizes)
    report += ["## Per-patient latency (`decide`: the fired recommend/note rules)", ""]
    report.append(
        "Medians of per-patient time over chunks of 50 seeded patients (about 25 % of facts "
        "unknown), every engine timed in turn on the same chunk. The floor for the bundled "
        "policy is `benchmarks/handwritten.py`, written by hand; for generated policies it is "
        "the hand-style function `benchmarks/generate.py` writes (straight-line, one local per "
        "fact, explicit None checks). Peers run the rules translated as described in "
        "`benchmarks/PEERS.md` and agreed with leukorules on every patient before being timed. "
        "JsonLogic is measured with `json-logic-qubit`: the PyPI package `json-logic` (0.6.3) "
        "is Python 2 code and fails on its first rule under Python 3 (see PEERS.md)."
    )
    report.append("")
    lines, raw["latency"] = latency_section(
        workloads, peer_names, 1000 if args.quick else 2000, seconds
    )
    report += lines

    print("CLI start-up ...", file=sys.stderr)
    report += ["## `leukorules evaluate` wall time", ""]
    lines, cli_median = cli_section()
    report += lines
    raw["cli_seconds"] = cli_median

    if not args.skip_batch:
        print("cohort runs ...", file=sys.stderr)
        report += ["## Cohort runs (`leukorules batch`)", ""]
        report.append(
            "Wall time of the whole command (policy load, reading, evaluation, writing Parquet "
            "results and the errors file) and the peak resident memory of its process tree, "
            f"sampled every 50 ms. Cohorts are generated into {args.data}."
        )
        report.append("")
        generated = args.data / "generated-300.rules"
        generated.parent.mkdir(parents=True, exist_ok=True)
        generated.write_text(policy_text(300))
        lines, raw["batch"] = batch_section(
            args.data,
            batch_plan(args.quick, args.python_10m),
            {"bundled": None, "generated 300": generated},
        )
        report += lines

    report += targets_section(raw)
    report.append(f"Total benchmark time: {time.perf_counter() - started:,.0f} s.")
    args.out.write_text("\n".join(report) + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2, default=str))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
