"""Benchmark: how long leukorules takes to refuse hostile input (docs/robustness.md quotes it).

Run from the repository root:

    python benchmarks/bench_hostile.py              # writes benchmarks/RESULTS-hostile.md
    python benchmarks/bench_hostile.py --no-write   # print only

Each case is an input the issue of hostile files (issue 12) named, or a sibling of one, handed
to the reader that must refuse it; the number is the median wall-clock time of 5 warm runs (the
parser built and the code imported before the clock runs). What is measured is the refusal: each
case also checks that the answer is the expected diagnostic, and stops the run if it is not.
Speed belongs here, not in tests (the tests assert behaviour and guard against hangs only).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leukorules import load_policy  # noqa: E402
from leukorules.audit import AuditError, log_decision, open_log, result_summary  # noqa: E402
from leukorules.authoring.scenario_files import load_scenario_text  # noqa: E402
from leukorules.check import check_paths, check_text  # noqa: E402
from leukorules.engine.facts_file import (  # noqa: E402
    MAX_FACTS_BYTES,
    load_facts_file,
    parse_facts_text,
)

RESULTS = REPO / "benchmarks" / "RESULTS-hostile.md"
RUNS = 5
AT_THE_CAP = "YAML facts at the 1 MiB limit, dense with `[]` (one run)"


def timed(action: Callable[[], object], runs: int = RUNS) -> float:
    action()  # warm
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def expect(found: str, wanted: str) -> None:
    if wanted not in found:
        raise SystemExit(f"unexpected answer: {found!r} (wanted {wanted!r})")


def cases(folder: Path) -> list[tuple[str, str, Callable[[], object]]]:
    policy = load_policy()
    deep_yaml = "age: " + "[" * 100_000
    deep_json = '{"age": ' + "[" * 100_000 + "]" * 100_000 + "}"
    deep_scenario = "- name: deep\n  facts: {age: " + "[" * 100_000

    def facts(text: str, fmt: str, wanted: str) -> Callable[[], object]:
        def run() -> None:
            _, problems = parse_facts_text(text, "p", fmt)  # type: ignore[arg-type]
            expect(problems[0].message if problems else "", wanted)

        return run

    def scenario() -> None:
        _, problems = load_scenario_text(deep_scenario, policy.policy, "s.yaml")
        expect(problems[0].message, "levels deep")

    def policy_check(path: Path, wanted: str) -> Callable[[], object]:
        def run() -> None:
            expect(" ".join(d.message for d in check_paths([path]).diagnostics), wanted)

        return run

    def policy_text(text: str, wanted: str) -> Callable[[], object]:
        def run() -> None:
            expect(" ".join(d.message for d in check_text(text).diagnostics), wanted)

        return run

    sparse = folder / "huge.rules"
    with sparse.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    fifo = folder / "facts.json"
    os.mkfifo(fifo)

    def fifo_facts() -> None:
        _, problems = load_facts_file(fifo)
        expect(problems[0].message, "FIFO")

    header = 'policy p { title "t" version "1" }\n'
    escapes = header.replace('"t"', '"' + "\\q" * 10_000 + '"')
    big = header + f'fact x: number in 0..{"1" + "0" * 309} "x"\n'

    log = folder / "decisions.db"
    evaluation = policy.evaluate({}, trace=False)
    log_decision(log, evaluation, {}, policy.sources)
    connection = sqlite3.connect(log, isolation_level=None)
    connection.execute("DROP TRIGGER decision_no_update")
    connection.execute("UPDATE decision SET result = ?", ("[" * 100_000 + "]" * 100_000,))
    connection.close()

    def audit_list() -> None:
        with open_log(log) as opened:
            row = next(opened.rows())
            expect(str(result_summary(row)["problem"]), "nested too deeply")
            try:
                row.result_value()
            except AuditError as error:
                expect(str(error), "decision #1")

    deep = "levels deep"
    # The slowest YAML the facts reader accepts: a file at the size limit, one token per byte.
    dense = "a: [" + ",".join(["[]"] * ((MAX_FACTS_BYTES - 10) // 3)) + "]\n"
    return [
        ("YAML facts, 100,000 unclosed `[`", "LR507 too deep", facts(deep_yaml, "yaml", deep)),
        ("JSON facts, 100,000 nested `[`", "LR507 too deep", facts(deep_json, "json", deep)),
        ("scenario file, 100,000 unclosed `[`", "nested more than 100 levels", scenario),
        ("`check /dev/zero`", "LR103 is a device", policy_check(Path("/dev/zero"), "a device")),
        ("`check` of a 50 MB policy file", "LR101 too large", policy_check(sparse, "limit")),
        ("facts file that is a FIFO", "LR501 is a FIFO", fifo_facts),
        ("policy string with 10,000 `\\q`", "LR115, the first 20", policy_text(escapes, "escape")),
        ("policy range up to 1e309", "LR116 too large", policy_text(big, "too large")),
        ("decision log row, result of 100,000 nested `[`", "names decision #1", audit_list),
        (AT_THE_CAP, "read (a mapping of lists)", facts(dense, "yaml", "")),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only, keep RESULTS")
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="leukorules-bench-hostile-"))
    try:
        rows = [
            (name, answer, timed(action, 1 if name == AT_THE_CAP else RUNS))
            for name, answer, action in cases(folder)
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = [
        "# Refusing hostile input",
        "",
        f"`python benchmarks/bench_hostile.py`: median wall clock of {RUNS} warm runs; "
        f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPU(s), {platform.system()}.",
        "",
        "| input | answer | time to refuse |",
        "|---|---|---:|",
        *(f"| {name} | {answer} | {seconds * 1000:,.1f} ms |" for name, answer, seconds in rows),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not arguments.no_write:
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
