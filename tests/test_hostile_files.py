"""Hostile paths: devices, FIFOs, folders and files larger than their limit, for every reader.

Every reader of a file a user names (policies and their includes, facts, scenarios, guideline
sources, `fmt`, the decision log and `audit replay --facts`) refuses what is not a regular file
by what it is, and reads at most its size limit, whatever `stat` says. Each test runs under a
watchdog: a reader that blocks on a FIFO or reads /dev/zero without end fails the test instead of
hanging the suite or exhausting memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.cli import leukorules
from support.watchdog import watchdog

from leukorules import messages as msg
from leukorules.engine.facts_file import load_facts_file
from leukorules.reading import (
    FileTooLarge,
    NotARegularFile,
    kind_of_path,
    read_regular_file,
    read_source,
)

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "policies" / "leukoencephalopathy"

pytestmark = pytest.mark.skipif(
    not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="needs POSIX FIFOs"
)

SMALL_POLICY = """\
policy demo.small { title "Small" version "1.0" }
evidence 1 { citation "c" }
fact flag: bool "A flag"
rule r { statement "s" evidence 1 when flag recommend "x" }
"""


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with watchdog(20):
        yield


def cli(*args: str) -> tuple[int, str]:
    result = leukorules(*args)
    return result.exit_code, result.output


def fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def zero_link(folder: Path, name: str) -> Path:
    path = folder / name
    path.symlink_to("/dev/zero")
    return path


# --- the shared reader -------------------------------------------------------------------------


def test_the_reader_names_each_kind_it_refuses(tmp_path: Path) -> None:
    assert kind_of_path(Path("/dev/zero")) == msg.KIND_DEVICE
    assert kind_of_path(fifo(tmp_path, "pipe")) == msg.KIND_FIFO
    assert kind_of_path(tmp_path) == msg.KIND_FOLDER
    (tmp_path / "plain").write_text("x")
    assert kind_of_path(tmp_path / "plain") is None
    for path in (Path("/dev/zero"), tmp_path / "pipe", tmp_path, zero_link(tmp_path, "z")):
        with pytest.raises(NotARegularFile):
            read_regular_file(path, 100)


def test_the_size_limit_is_enforced_while_reading_not_taken_from_stat(tmp_path: Path) -> None:
    """/proc files report size 0 and hold more: only counting while reading catches them."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        pytest.skip("needs /proc")
    assert maps.stat().st_size == 0
    with pytest.raises(FileTooLarge) as refused:
        read_regular_file(maps, 10)
    assert refused.value.size is None  # found while reading
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * 10)
    assert read_regular_file(exact, 10) == b"x" * 10
    exact.write_bytes(b"x" * 11)
    with pytest.raises(FileTooLarge) as refused:
        read_regular_file(exact, 10)
    assert refused.value.size == 11  # stat already said so


# --- policies and includes ---------------------------------------------------------------------


def test_check_dev_zero_is_refused_as_a_device() -> None:
    status, output = cli("check", "/dev/zero")
    assert status == 1
    assert "/dev/zero is a device, not a policy file  [LR103]" in output


def test_check_a_fifo_given_as_the_policy(tmp_path: Path) -> None:
    status, output = cli("check", str(fifo(tmp_path, "p.rules")))
    assert status == 1
    assert "is a FIFO (named pipe), not a policy file  [LR103]" in output


def test_an_include_that_is_a_fifo_is_reported_by_kind_not_as_missing(tmp_path: Path) -> None:
    (tmp_path / "main.rules").write_text(SMALL_POLICY + 'include "pipe.rules"\n')
    fifo(tmp_path, "pipe.rules")
    status, output = cli("check", str(tmp_path / "main.rules"))
    assert status == 1
    assert "does not exist" not in output
    assert re.search(r"main\.rules:5:9: error: \S*pipe\.rules is a FIFO \(named pipe\)", output)


@pytest.mark.parametrize("kind", ["device", "folder"])
def test_an_include_that_is_a_device_or_folder_is_reported_by_kind(
    tmp_path: Path, kind: str
) -> None:
    (tmp_path / "main.rules").write_text(SMALL_POLICY + 'include "other"\n')
    if kind == "device":
        zero_link(tmp_path, "other")
    else:
        (tmp_path / "other").mkdir()
    status, output = cli("check", str(tmp_path / "main.rules"))
    assert status == 1
    assert "does not exist" not in output
    assert f"is a {kind}, not a policy file" in output


def test_a_fifo_named_like_a_policy_inside_a_folder_is_reported_not_read(tmp_path: Path) -> None:
    (tmp_path / "main.rules").write_text(SMALL_POLICY)
    fifo(tmp_path, "stray.rules")
    status, output = cli("check", str(tmp_path))
    assert status == 1
    assert "stray.rules is a FIFO (named pipe), not a policy file" in output


def test_read_source_locates_a_refused_include_at_the_include(tmp_path: Path) -> None:
    from leukorules.reading import SourceError
    from leukorules.source import Span

    where = Span.point("main.rules", 3, 9)
    with pytest.raises(SourceError) as refused:
        read_source(zero_link(tmp_path, "z.rules"), "z.rules", at=where)
    assert refused.value.diagnostic.span == where


def test_fmt_refuses_devices_and_fifos(tmp_path: Path) -> None:
    status, output = cli("fmt", "--check", "/dev/zero", str(fifo(tmp_path, "p.rules")))
    assert status == 1
    assert "/dev/zero is a device, not a policy file" in output
    assert "p.rules is a FIFO (named pipe), not a policy file" in output
    status, output = cli("fmt", str(zero_link(tmp_path, "z.rules")))
    assert status == 1 and "is a device, not a policy file" in output


# --- facts, scenarios, sources, decision logs ---------------------------------------------------


@pytest.mark.parametrize("make", [fifo, zero_link])
def test_facts_files_that_are_not_regular_files_are_refused_by_kind(
    tmp_path: Path, make: Callable[[Path, str], Path]
) -> None:
    path = make(tmp_path, "facts.json")
    document, problems = load_facts_file(path)
    assert document is None
    kind = "a FIFO (named pipe)" if make is fifo else "a device"
    assert [p.message for p in problems] == [f"{path} is {kind}, not a facts file"]
    status, output = cli("evaluate", str(path))
    assert status == 1 and f"is {kind}, not a facts file  [LR501]" in output
    assert "give `-`" in output  # how to pipe facts in instead


def test_evaluate_dev_zero_as_facts() -> None:
    status, output = cli("evaluate", "/dev/zero")
    assert status == 1 and "/dev/zero is a device, not a facts file" in output


def test_a_scenario_file_linked_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = zero_link(tmp_path, "s.yaml")
    pipe = fifo(tmp_path, "t.yaml")
    status, output = cli("test", "--policy", str(POLICY_DIR), str(link), str(pipe))
    assert status == 1
    assert "s.yaml: error: it is a device, not a scenario file" in output
    assert "t.yaml: error: it is a FIFO (named pipe), not a scenario file" in output


@pytest.mark.parametrize("make", [fifo, zero_link])
def test_coverage_refuses_a_guideline_source_that_is_not_a_regular_file(
    tmp_path: Path, make: Callable[[Path, str], Path]
) -> None:
    source = make(tmp_path, "guide.txt")
    status, output = cli("coverage", "--source", str(source), str(POLICY_DIR))
    assert status == 1
    assert f"cannot read the source {source}: it is a" in output


@pytest.mark.parametrize("command", ["verify", "list"])
def test_a_decision_log_that_is_a_fifo_or_device_is_refused(tmp_path: Path, command: str) -> None:
    pipe = fifo(tmp_path, "log.db")
    status, output = cli("audit", command, "--db", str(pipe))
    assert status == 1 and "is a FIFO (named pipe), not a file" in output
    status, output = cli("audit", command, "--db", "/dev/zero")
    assert status == 1 and "/dev/zero is a device, not a file" in output


def test_evaluate_will_not_log_to_a_fifo(tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text("{}")
    pipe = fifo(tmp_path, "log.db")
    status, output = cli("evaluate", str(facts), "--log", str(pipe), "--policy", str(POLICY_DIR))
    assert status == 1 and "is a FIFO (named pipe), not a file" in output


def test_oversized_facts_and_scenarios_are_refused_at_their_limits(tmp_path: Path) -> None:
    from leukorules.authoring.scenario_files import load_scenario_file
    from leukorules.authoring.scenarios import MAX_SCENARIO_BYTES
    from leukorules.check import check_paths
    from leukorules.engine.facts_file import MAX_FACTS_BYTES

    facts = tmp_path / "big.json"
    with facts.open("wb") as handle:
        handle.truncate(MAX_FACTS_BYTES + 1)
    assert [p.code for p in load_facts_file(facts)[1]] == ["LR501"]
    scenarios = tmp_path / "big.yaml"
    with scenarios.open("wb") as handle:
        handle.truncate(MAX_SCENARIO_BYTES + 1)
    policy = check_paths([POLICY_DIR]).policy
    assert policy is not None
    _, problems = load_scenario_file(scenarios, policy)
    assert [p.message for p in problems] == [f"larger than {MAX_SCENARIO_BYTES:,} bytes"]


@pytest.mark.parametrize("make", [fifo, zero_link])
def test_a_fhir_record_that_is_not_a_regular_file_is_refused_by_kind(
    tmp_path: Path, make: Callable[[Path, str], Path]
) -> None:
    from leukorules.fhir.reading import read_record_file

    path = make(tmp_path, "record.json")
    entries, problems = read_record_file(path)
    kind = "a FIFO (named pipe)" if make is fifo else "a device"
    assert entries is None
    assert [p.message for p in problems] == [f"cannot read {path}: it is {kind}"]


def test_audit_replay_refuses_facts_that_are_not_a_regular_file(tmp_path: Path) -> None:
    pipe = fifo(tmp_path, "facts.json")
    status, output = cli(
        "audit", "replay", "1", "--db", str(tmp_path / "log.db"), "--facts", str(pipe)
    )
    assert status == 1 and "is a FIFO (named pipe), not a facts file" in output
