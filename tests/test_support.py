"""The shared test machinery can fail: a golden check that always passed would hide every
change of output."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings
from support.golden import Golden
from support.profiles import SCALE, examples


def test_a_golden_check_fails_on_a_difference_and_on_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "expected.txt"
    with pytest.raises(AssertionError, match="missing"):
        Golden(updating=False).check(path, "output\n")
    path.write_bytes(b"output\r\n")
    with pytest.raises(AssertionError, match="differs"):
        Golden(updating=False).check(path, "output\n")  # line ends count
    Golden(updating=False).check(path, "output\r\n")


def test_updating_writes_exactly_the_output(tmp_path: Path) -> None:
    path = tmp_path / "new" / "expected.txt"
    Golden(updating=True).check(path, "ünïcode\r\nline\n")
    assert path.read_bytes() == "ünïcode\r\nline\n".encode()
    Golden(updating=True).check(path, b"\x89PNG")
    assert path.read_bytes() == b"\x89PNG"


def test_example_budgets_follow_the_profile() -> None:
    profile = settings.get_current_profile_name()
    assert examples(10) == 10 * SCALE[profile]
    assert SCALE["fuzz"] > SCALE["ci"]
