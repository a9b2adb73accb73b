"""`leukorules.cli.common.collector_resting`: the commands that start up for one patient run
with Python's garbage collector resting, and leave it on (if it was) with start-up's objects
frozen. The batch command's variant is in `test_cohort_batch_startup.py`."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from leukorules.cli.common import collector_resting

PATIENT = Path(__file__).resolve().parent.parent / "examples" / "patients"
PATIENT_FILE = PATIENT / "adem-steroid-nonresponder.yaml"

PROBE = """
import gc, json, sys
from leukorules.engine.compile import CompiledPolicy
seen = {"evaluating": []}
for name in ("evaluate", "explain"):
    original = getattr(CompiledPolicy, name)
    def probe(self, *args, _original=original, **kwargs):
        seen["evaluating"].append(gc.isenabled())
        return _original(self, *args, **kwargs)
    setattr(CompiledPolicy, name, probe)
from leukorules.cli import main
try:
    main(sys.argv[1:])
except SystemExit as end:
    seen["exit"] = end.code
seen["after"] = [gc.isenabled(), gc.get_freeze_count() > 0]
print(json.dumps(seen))
"""


@pytest.mark.parametrize("command", [["evaluate"], ["explain"]])
def test_a_one_patient_command_runs_with_the_collector_resting(command: list[str]) -> None:
    args = [*command, str(PATIENT_FILE)]
    if command == ["explain"]:
        args.append("approach.supportive_care")
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["exit"] == 0, run.stderr
    assert seen["evaluating"] == [False]
    assert seen["after"] == [True, True]


def test_the_collector_comes_back_as_it_was() -> None:
    assert gc.isenabled()
    try:
        with collector_resting() as resume:
            assert not gc.isenabled()
            resume()
            assert gc.isenabled()
        assert gc.isenabled()
        gc.disable()  # a caller that had it off keeps it off
        with collector_resting() as resume:
            resume()
            assert not gc.isenabled()
        assert not gc.isenabled()
        with pytest.raises(RuntimeError), collector_resting():
            gc.enable()
            gc.disable()
            raise RuntimeError("the block failed")
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()
