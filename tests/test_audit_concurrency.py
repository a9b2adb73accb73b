"""Eight processes append 200 decisions each to one log at the same time: nothing is lost or forked.

Each process logs a precomputed evaluation (evaluating is not what is under test) through the real
`log_decision`, which opens the log, appends in a BEGIN IMMEDIATE transaction and closes it, every
time, exactly as one `leukorules evaluate --log` process does. The log lives on a RAM-backed
folder when there is one: the test is about locking, not about the disk's fsync latency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from leukorules import load_policy
from leukorules.audit import open_log
from leukorules.audit.verify import verify_log

pytestmark = pytest.mark.slow

PROCESSES = 8
# 1,600 appends contend for the lock thousands of times; 4,000 added nothing but time, and on a
# starved shared machine one process could lose the race for the whole retry budget.
EACH = 200

POLICY = """
policy demo.concurrency { title "Concurrency" version "1" }
evidence 1 { citation unknown }
fact age: integer in 0..120
rule adult {
  statement "Adults get the adult dose."
  evidence 1
  when age >= 18
  recommend "Adult dose"
}
"""

WORKER = textwrap.dedent(
    """
    import json, sys
    from leukorules.audit import log_decision
    from leukorules.result.schema import parse_evaluation

    db, evaluation, sources, worker, count = sys.argv[1:6]
    ev = parse_evaluation(open(evaluation, encoding="utf-8").read())
    texts = json.load(open(sources, encoding="utf-8"))
    facts = {"age": 40}
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for i in range(int(count)):
        log_decision(db, ev, facts, texts, user=f"worker-{worker}", case=str(i))
    """
)


def _scratch_root() -> str | None:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return str(shm)
    return None


def test_eight_processes_append_concurrently(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.rules"
    policy_file.write_text(POLICY, encoding="utf-8")
    policy = load_policy(policy_file)
    values = policy.validate({"age": 40})
    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text(policy.evaluate(values).to_json(), encoding="utf-8")
    sources = tmp_path / "sources.json"
    sources.write_text(json.dumps({k: s.text for k, s in policy.sources.items()}), "utf-8")
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER, encoding="utf-8")
    with tempfile.TemporaryDirectory(dir=_scratch_root()) as scratch:
        db = Path(scratch) / "decisions.db"
        command = [sys.executable, str(worker), str(db), str(evaluation), str(sources)]
        processes = [
            subprocess.Popen(
                [*command, str(n), str(EACH)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(PROCESSES)
        ]
        try:
            for process in processes:
                assert process.stdout is not None and process.stdout.readline() == "ready\n"
            for process in processes:
                assert process.stdin is not None
                process.stdin.write("go\n")
                process.stdin.flush()
            for process in processes:
                _, errors = process.communicate(timeout=240)
                assert process.returncode == 0, errors
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
        report = verify_log(db)
        assert report.ok, report.problem
        assert report.rows == PROCESSES * EACH
        with open_log(db) as log:
            rows = list(log.rows())
        assert [row.seq for row in rows] == list(range(1, PROCESSES * EACH + 1))
        per_worker = Counter(row.user for row in rows)
        assert per_worker == {f"worker-{n}": EACH for n in range(PROCESSES)}
        cases = {(row.user, row.case) for row in rows}
        assert len(cases) == PROCESSES * EACH  # every single decision is there, once
        # each worker's own decisions keep their order in the chain
        for n in range(PROCESSES):
            mine = [int(row.case or -1) for row in rows if row.user == f"worker-{n}"]
            assert mine == list(range(EACH))
