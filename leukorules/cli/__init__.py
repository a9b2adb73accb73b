"""The `leukorules` command line: thin commands that parse arguments, call the API, render, exit.

Takes: command lines. Gives: output on stdout, diagnostics on stderr, an exit status. Sits on
top of every stage, and nothing imports it.
Must never import: `leukorules.syntax.lark_adapter` (commands reach the parser through the
checker or the syntax package).

Exit status everywhere: 0 success (warnings allowed), 1 bad input (a policy or facts problem,
reported as diagnostics on stderr), 2 usage error. Subcommands live in their own modules and
are imported only when run, so `leukorules --help` and each command start quickly.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any

import click

from leukorules.version import __version__

# command name -> (module, attribute, one-line help shown by `leukorules --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("leukorules.cli.check", "check", "Parse and check policy files."),
    "fmt": ("leukorules.cli.fmt", "fmt", "Format policy files in the canonical layout."),
    "evaluate": ("leukorules.cli.evaluate", "evaluate", "Evaluate one patient's facts."),
    "explain": ("leukorules.cli.evaluate", "explain", "Explain one rule's outcome for a patient."),
    "facts": ("leukorules.cli.facts", "facts", "Print the facts a health record yields."),
    "test": ("leukorules.cli.scenarios", "test", "Run scenario files against a policy."),
    "coverage": ("leukorules.cli.scenarios", "coverage", "Guideline coverage of a policy."),
    "audit": ("leukorules.cli.audit", "audit", "Verify, list, show and replay logged decisions."),
    "graph": ("leukorules.cli.graph", "graph", "Draw the policy's rule graph."),
    "prove": ("leukorules.cli.prove", "prove", "Prove a policy's properties for every patient."),
    "diff": ("leukorules.cli.diff", "diff", "What changes between two versions of a policy."),
    "batch": ("leukorules.cli.batch", "batch", "Evaluate a cohort of patients."),
    "serve": ("leukorules.cli.serve", "serve", "Serve policies as a CDS Hooks service."),
    "compile": (
        "leukorules.cli.compile",
        "compile_command",
        "Print a policy's generated Python or cohort SQL.",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        available = []
        for name, (module, _, _) in COMMANDS.items():
            if importlib.util.find_spec(module) is not None:
                available.append(name)
        return available

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or importlib.util.find_spec(entry[0]) is None:
            return None
        command = getattr(importlib.import_module(entry[0]), entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leukorules")
def main() -> None:
    """leukorules: clinical guidelines as checked, traceable rules."""
    # numpy (through pyarrow; cohort runs use it for bit arrays, never for linear algebra) starts
    # a pool of OpenBLAS threads on import unless told otherwise: about 0.1 s of CPU per run,
    # taken from DuckDB's threads while a cohort runs. A user's own setting is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def run(*args: Any) -> None:  # pragma: no cover - console entry for `python -m`
    main(*args)
