"""Per-patient speed of `decide` and `evaluate` on the bundled policy, and `leukorules evaluate`
wall time, as ratios measured in one run (issue 5, "Per-patient speed").

    python benchmarks/bench_evaluate.py            # writes benchmarks/RESULTS-evaluate.md
    python benchmarks/bench_evaluate.py --no-write # print only

The floor is `benchmarks/handwritten.py` (the bundled policy written by hand, shared with
`run.py`); it is checked against `decide` on a seeded cohort of 3,000 generated patients before
anything is timed. Engines take turns over chunks of 50 patients; medians of many chunks.
`evaluate` is also timed with every field of the result read (`read_all`: what a caller that
shows the whole result pays) and with its JSON written (what the CLI and the audit log pay).
`read_all` works on results of any shape (records or, in older versions, pydantic models), so
the script can time an older checkout the same way (`PYTHONPATH=/path/to/old/checkout`).
"""

from __future__ import annotations

import argparse
import dataclasses
import operator
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import patients  # noqa: E402
from handwritten import decide as handwritten  # noqa: E402
from run import interleaved_samples  # noqa: E402

FACTS = HERE.parent / "examples" / "patients" / "adem-steroid-nonresponder.yaml"


_FIELD_READERS: dict[type, Callable[[Any], tuple[Any, ...]] | None] = {}


def _field_reader(kind: type) -> Callable[[Any], tuple[Any, ...]] | None:
    """Reads the data fields of a record type (dataclass or pydantic model) in one call,
    ClassVars left out; None for anything else."""
    if kind not in _FIELD_READERS:
        if dataclasses.is_dataclass(kind):
            names: tuple[str, ...] | None = tuple(f.name for f in dataclasses.fields(kind))
        else:
            model_fields = getattr(kind, "model_fields", None)
            names = None if model_fields is None else tuple(model_fields)
        reader = None
        if names:
            getter = operator.attrgetter(*names)
            reader = getter if len(names) > 1 else (lambda value, get=getter: (get(value),))
        _FIELD_READERS[kind] = reader
    return _FIELD_READERS[kind]


def read_all(value: Any) -> int:
    """Read every field of a result, recursively; returns how many values were read.

    Each record's fields are read in one `attrgetter` call, so the walk costs about what a
    renderer pays to touch each value; its own cost is timed on a result built beforehand
    ("walking a built result") so the reader can see what is the walk and what is `evaluate`."""
    reader = _field_reader(type(value))
    count = 1
    if reader is not None:
        for item in reader(value):
            count += read_all(item)
    elif type(value) is tuple or type(value) is list:
        for item in value:
            count += read_all(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            count += read_all(item)
    return count


def to_json(evaluation: Any) -> str:
    """The result's JSON, by whichever method this version of leukorules offers."""
    write = getattr(evaluation, "to_json", None) or evaluation.model_dump_json
    text: str = write()
    return text


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
    # The floor for `decide` is on facts already validated (a plain dict is checked on
    # every call); validation's own cost is its own row. Older versions have no `validate`:
    # there a plain dict was trusted, so the same row times `decide` on the dict. Every path
    # takes the same (raw, validated) pair, so each pays the same call and indexing overhead.
    validate: Callable[[Any], Any] = getattr(policy, "validate", lambda raw: raw)
    pairs = [(p, validate(p)) for p in cohort]
    engines: dict[str, Callable[[Any], Any]] = {
        "hand-written": lambda pair: handwritten(pair[0]),
        "decide (validated facts)": lambda pair: policy.decide(pair[1]),
        "validate": lambda pair: validate(pair[0]),
        "decide (plain dict: validated, then decided)": lambda pair: policy.decide(pair[0]),
        "evaluate (validated facts)": lambda pair: policy.evaluate(pair[1]),
        "evaluate, every field read": lambda pair: read_all(policy.evaluate(pair[1])),
        "evaluate + JSON": lambda pair: to_json(policy.evaluate(pair[1])),
        "evaluate(trace=True), every field read": lambda pair: read_all(
            policy.evaluate(pair[1], trace=True)
        ),
        "evaluate(trace=True) + JSON": lambda pair: to_json(policy.evaluate(pair[1], trace=True)),
    }
    sample = pairs[:500]
    built = {id(pair): policy.evaluate(pair[1]) for pair in sample}
    engines["walking a built result (the walker alone)"] = lambda pair: read_all(built[id(pair)])
    for fn in engines.values():  # warm: memo tables
        for p in sample:
            fn(p)
    samples = interleaved_samples(engines, sample, args.seconds)
    found = {name: statistics.median(values) for name, values in samples.items()}
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
    # What reading a fresh result costs beyond reading one built earlier: both rows pay the
    # walk and one call, so the difference is evaluate's share (fresh records, nothing lazy).
    share = found["evaluate, every field read"] - found["walking a built result (the walker alone)"]
    lines.append(
        f"| evaluate's share of `every field read` (that row less the walker's) | {share:,.2f} "
        f"| {share / floor:,.1f}x |"
    )
    # The same share, paired: each chunk's walk of fresh results less the walk of built ones
    # timed right after it, over the hand-written function on the same chunk. A difference of
    # two medians near 200 µs moves by several µs with the machine; paired samples move less.
    paired = [
        (read - walk, (read - walk) / hand)
        for read, walk, hand in zip(
            samples["evaluate, every field read"],
            samples["walking a built result (the walker alone)"],
            samples["hand-written"],
            strict=True,
        )
    ]
    lines.append(
        "| the same share, median of paired chunks (each chunk's difference over its own "
        f"hand-written time) | {statistics.median(d for d, _ in paired):,.2f} "
        f"| {statistics.median(r for _, r in paired):,.1f}x |"
    )
    lines += [
        "",
        "`evaluate` computes every outcome, the because and chain of every reported fired rule,",
        "the missing facts of every undetermined one, derivations and gaps: the generated core",
        "computes most of it (`leukorules/engine/supports.py`), the rest is per-policy tables.",
        "The result is a tree of immutable records (`leukorules/result/model.py`): the parts",
        "that do not depend on the patient are built once per policy and the records that",
        "repeat between patients come from a bounded memo (`leukorules/engine/build.py`).",
        "`every field read` walks the whole result; `JSON` writes it as the CLI and the audit",
        "log do (`leukorules/result/serialize.py`, the one writer; no pydantic; records shared",
        "between results are written once and repeated from a memo). Nothing in a result is",
        "built lazily, so reading a field is an attribute read: `every field read` minus",
        "`walking a built result` is `evaluate` itself, and the walk is the walker's own",
        "Python recursion over some 480 values.",
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
