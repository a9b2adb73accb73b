"""The disk cache of compiled policies (`leukorules.cache`): a hit gives byte-identical output to
a full check, and no change to a source, a folder's files or the working directory is missed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.watchdog import watchdog

from leukorules import cache
from leukorules.check import check_paths
from leukorules.engine.compile import CompiledPolicy
from leukorules.syntax.grammar import bundled_policy_dir

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "patients"
FACTS = EXAMPLE / "adem-steroid-nonresponder.yaml"


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("LEUKORULES_NO_CACHE", raising=False)
    return home


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(bundled_policy_dir(), target)
    return target


def _evaluate(args: list[str], env_home: Path, cwd: Path | None = None) -> str:
    env = {**os.environ, "XDG_CACHE_HOME": str(env_home)}
    env.pop("LEUKORULES_NO_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-m", "leukorules", "evaluate", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _fresh(path: Path) -> CompiledPolicy:
    """Checked and compiled now (not `load_policy`, whose in-process cache may hand back a
    compilation of the same policy read from another folder)."""
    result = check_paths([path])
    assert result.policy is not None
    return CompiledPolicy(result.policy, result.sources)


def _entries(home: Path) -> list[Path]:
    return sorted((home / "leukorules").glob("policy-*.pickle"))


@pytest.mark.parametrize("output", ["json", "text", "markdown"])
def test_a_hit_gives_the_same_bytes_as_a_full_check(cache_home: Path, output: str) -> None:
    cold = _evaluate([str(FACTS), "--format", output, "--trace"], cache_home)
    assert _entries(cache_home)
    warm = _evaluate([str(FACTS), "--format", output, "--trace"], cache_home)
    assert warm == cold


def test_a_hit_is_the_same_compiled_policy(cache_home: Path, policy_copy: Path) -> None:
    full = _fresh(policy_copy)
    cache.store([policy_copy], full)
    hit = cache.load_cached([policy_copy])
    assert hit is not None
    assert hit.policy == full.policy
    assert hit.sources == full.sources
    assert hit.source == full.source
    facts = {"leukoencephalopathy_type": "post_infectious", "seizures": True}
    assert hit.evaluate(facts, trace=True).to_json() == (full.evaluate(facts, trace=True).to_json())


def test_any_change_to_the_sources_is_seen(cache_home: Path, policy_copy: Path) -> None:
    cache.store([policy_copy], _fresh(policy_copy))
    assert cache.load_cached([policy_copy]) is not None
    file = policy_copy / "monitoring.rules"
    original = file.read_bytes()
    file.write_bytes(original + b"\n")  # same policy, other bytes
    assert cache.load_cached([policy_copy]) is None
    file.write_bytes(original)
    assert cache.load_cached([policy_copy]) is not None
    extra = policy_copy / "extra.rules"
    extra.write_text("// a new file in the folder\n", encoding="utf-8")
    assert cache.load_cached([policy_copy]) is None
    extra.unlink()
    assert cache.load_cached([policy_copy]) is not None
    file.unlink()
    assert cache.load_cached([policy_copy]) is None


def test_a_change_reaches_the_output(cache_home: Path, policy_copy: Path) -> None:
    before = _evaluate([str(FACTS), "--policy", str(policy_copy), "--format", "json"], cache_home)
    file = policy_copy / "supportive-management.rules"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace('statement "', 'statement "Changed. ', 1), encoding="utf-8")
    after = _evaluate([str(FACTS), "--policy", str(policy_copy), "--format", "json"], cache_home)
    assert after != before
    assert "Changed. " in after


def test_the_working_directory_is_part_of_the_key(
    cache_home: Path, policy_copy: Path, tmp_path: Path
) -> None:
    cache.store([policy_copy], _fresh(policy_copy))
    other = tmp_path / "elsewhere"
    other.mkdir()
    os.chdir(other)
    try:
        assert cache.load_cached([policy_copy]) is None
    finally:
        os.chdir(Path(__file__).resolve().parent.parent)


def test_corrupt_or_foreign_entries_are_ignored(cache_home: Path, policy_copy: Path) -> None:
    cache.store([policy_copy], _fresh(policy_copy))
    (entry,) = _entries(cache_home)
    entry.write_bytes(b"not a pickle")
    assert cache.load_cached([policy_copy]) is None
    cache.store([policy_copy], _fresh(policy_copy))
    entry.chmod(0o666)
    assert cache.load_cached([policy_copy]) is None  # writable by others: not read


def test_a_source_swapped_for_a_fifo_is_a_miss_not_a_hang(
    cache_home: Path, policy_copy: Path
) -> None:
    """An included file replaced by a FIFO after caching (named as a file, so no folder listing
    notices): the cache must not block reading it."""
    header = policy_copy / "leukoencephalopathy.rules"
    cache.store([header], _fresh(header))
    included = policy_copy / "facts.rules"
    included.unlink()
    os.mkfifo(included)
    with watchdog(10):
        assert cache.load_cached([header]) is None


def test_no_cache_when_turned_off(cache_home: Path, policy_copy: Path) -> None:
    os.environ["LEUKORULES_NO_CACHE"] = "1"
    try:
        cache.store([policy_copy], _fresh(policy_copy))
        assert cache.load_cached([policy_copy]) is None
    finally:
        del os.environ["LEUKORULES_NO_CACHE"]
    assert not _entries(cache_home)


def test_check_never_uses_it(cache_home: Path, policy_copy: Path) -> None:
    _evaluate([str(FACTS), "--policy", str(policy_copy)], cache_home)
    (policy_copy / "monitoring.rules").write_text("rule {", encoding="utf-8")
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    done = subprocess.run(
        [sys.executable, "-m", "leukorules", "check", str(policy_copy)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1


def test_the_code_digest_changes_when_a_module_is_edited_and_only_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "engine").mkdir()
    module = tmp_path / "engine" / "codegen.py"
    module.write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "grammar.lark").write_text("start: NAME\n", encoding="utf-8")
    monkeypatch.setattr(cache, "_PACKAGE", tmp_path)
    digest = cache.code_digest.__wrapped__  # uncached
    first = digest()
    (tmp_path / "engine" / "__pycache__").mkdir()
    (tmp_path / "engine" / "__pycache__" / "codegen.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "notes.txt").write_text("not code", encoding="utf-8")
    assert digest() == first  # bytecode and other files are not the code
    module.write_text("x = 2\n", encoding="utf-8")  # same size: the modification time tells
    stamp = module.stat().st_mtime_ns
    os.utime(module, ns=(stamp, stamp + 1_000_000))
    assert digest() != first
    (tmp_path / "grammar.lark").write_text("start: NAME NAME\n", encoding="utf-8")
    assert digest() != first
