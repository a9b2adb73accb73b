"""What `leukorules batch` does before a run to start quicker: the checked policy from the
per-user cache (the same policy a full check gives), and pyarrow told once that pandas is absent
(pandas itself still importable)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from leukorules.check import check_paths
from leukorules.cli.batch import checked_policy
from leukorules.cli.common import policy_paths


def test_the_cached_policy_is_the_checked_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("LEUKORULES_NO_CACHE", raising=False)
    checked = check_paths(policy_paths(())).policy
    assert checked is not None
    first = checked_policy(())  # checked in full, then cached
    assert list((tmp_path / "cache" / "leukorules").glob("*"))
    second = checked_policy(())  # from the cache
    assert first == checked
    assert second == checked
    assert [r.id for r in second.rules] == [r.id for r in checked.rules]


def test_a_cached_policy_is_read_without_the_compiled_evaluator(tmp_path: Path) -> None:
    """`batch` needs the policy, not the generated evaluator: reading it from the cache leaves
    the engine's compiler (and the result model it brings, about 45 ms) unimported."""
    code = (
        "import sys\n"
        "from leukorules.cli.batch import checked_policy\n"
        "policy = checked_policy(())\n"
        "assert policy.rules, 'no policy'\n"
        "print('leukorules.engine.compile' in sys.modules)\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("LEUKORULES_NO_CACHE", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
        )
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr
    # the first run checks, compiles and caches the policy; the second reads it
    assert [r.stdout.strip() for r in runs] == ["True", "False"]


def test_pyarrow_stops_looking_for_pandas_and_pandas_still_imports() -> None:
    pytest.importorskip("pyarrow")
    pytest.importorskip("pandas")
    code = (
        "import sys\n"
        "from leukorules.cli.batch import pyarrow_without_pandas\n"
        "pyarrow_without_pandas()\n"
        "import pyarrow as pa\n"
        "pa.array([1, 2]).to_pylist()\n"
        "assert 'pandas' not in sys.modules, 'pyarrow imported pandas'\n"
        "import pandas\n"
        "assert pa.table({'a': [1]}).to_pandas()['a'].tolist() == [1]\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
