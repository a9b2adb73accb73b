"""`leukorules ARGS` run in-process (click's runner) or in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping

from click.testing import CliRunner, Result

from leukorules.cli import main

# No colour, whatever the terminal running the tests asks for: outputs compare as plain text.
PLAIN: Mapping[str, str | None] = {"NO_COLOR": "1", "FORCE_COLOR": None}


def leukorules(
    *args: str,
    stdin: str | bytes | None = None,
    env: Mapping[str, str | None] | None = None,
    catch_exceptions: bool = False,
) -> Result:
    """Run the CLI with `args`; `env` adds to (and `None` values remove from) PLAIN. An
    exception escaping the CLI fails the test (click would report it as exit status 1, which
    a test of a refusal could mistake for the refusal)."""
    return CliRunner().invoke(
        main,
        list(args),
        input=stdin,
        env={**PLAIN, **(env or {})},
        catch_exceptions=catch_exceptions,
    )


def in_a_fresh_process(args: list[str]) -> tuple[str, list[str]]:
    """`leukorules ARGS` run in a new interpreter (exit status 0 required): what it printed, and
    the `pydantic*` modules it imported on the way."""
    script = (
        "import json, sys\n"
        "from leukorules.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('pydantic'))\n"
        "print(json.dumps(loaded), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, modules
