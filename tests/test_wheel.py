"""The built wheel carries the grammar and the bundled policies and works outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (built,) = out.glob("leukorules-*.whl")
    return built


def test_wheel_contains_grammar_and_policies(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "leukorules/_data/grammar/leukorules.lark" in names
    policy_files = [n for n in names if n.startswith("leukorules/_data/policies/")]
    assert any(n.endswith(".rules") for n in policy_files), policy_files


def test_installed_wheel_checks_bundled_policy_outside_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    # The fresh venv borrows the test environment's dependencies (lark, pydantic, click...)
    # through a .pth line, so no download is needed; its own site-packages, holding only the
    # wheel's leukorules, comes first on sys.path. A path named in a .pth file is not scanned
    # for further .pth files, so the checkout's editable install stays invisible.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    inner_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer_site = sysconfig.get_paths()["purelib"]
    (Path(inner_site) / "borrowed-dependencies.pth").write_text(outer_site + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import leukorules, sys; sys.stdout.write(leukorules.__file__)"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(env_dir) in where.stdout, "the wheel's copy must be the one imported"
    result = subprocess.run(
        [str(python), "-m", "leukorules", "check"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout
    evaluated = subprocess.run(
        [
            str(python),
            "-m",
            "leukorules",
            "evaluate",
            "--format",
            "json",
            str(ROOT / "examples" / "patients" / "adem-steroid-nonresponder.yaml"),
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert '"adem.plasma_exchange"' in evaluated.stdout
