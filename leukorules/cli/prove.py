"""`leukorules prove`: prove a policy's properties for every patient, or show a counterexample.

Exit status: 0 every property holds; 1 a property fails (its counterexample is printed), the
policy has errors, or nothing can decide the properties (no solver and too many patients to
enumerate: the message names `pip install 'leukorules[prove]'`); 2 usage error.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from leukorules.cli.common import EXIT_BAD_INPUT, EXIT_OK, fail, load_or_exit, policy_paths


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[POLICY]...")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for CI.",
)
@click.option(
    "--property",
    "only",
    multiple=True,
    metavar="ID",
    help="Prove only this property (repeatable); default: every property of the policy.",
)
@click.option(
    "--counterexamples",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also write each counterexample to DIR/<property id>.yaml, a scenario file.",
)
def prove(
    paths: tuple[Path, ...], output_format: str, only: tuple[str, ...], counterexamples: Path | None
) -> None:
    """Prove each property of a policy (default: the bundled policy) for every patient.

    A property that fails is shown with a counterexample: a patient, as a scenario file that
    `leukorules test` runs.

    Exit status: 0 all properties hold, 1 a property fails (or the policy has errors), 2 usage
    error.
    """
    from leukorules.prove.properties import CannotProve, prove
    from leukorules.prove.report import render_json, render_text
    from leukorules.prove.solver import SolverMissing

    result = load_or_exit(policy_paths(paths))
    policy = result.policy
    assert policy is not None
    chosen = list(policy.properties)
    if only:
        known = {p.id: p for p in policy.properties}
        missing = [name for name in only if name not in known]
        if missing:
            raise click.BadParameter(
                f"policy {policy.id} has no property {', '.join(missing)}", param_hint="--property"
            )
        chosen = [known[name] for name in dict.fromkeys(only)]
    if not chosen:
        click.echo(f"{policy.id} {policy.version} declares no properties: nothing to prove")
        sys.exit(EXIT_OK)
    started = time.monotonic()
    try:
        results = prove(policy, chosen)
    except (CannotProve, SolverMissing) as error:
        fail(str(error))
    seconds = time.monotonic() - started
    if counterexamples is not None:
        counterexamples.mkdir(parents=True, exist_ok=True)
        for found in results:
            if found.counterexample is not None:
                path = counterexamples / f"{found.prop.id}.yaml"
                path.write_text(found.counterexample.scenario(found.prop), encoding="utf-8")
    render = render_json if output_format == "json" else render_text
    click.echo(render(policy, results, seconds), nl=False)
    sys.exit(EXIT_OK if all(r.holds for r in results) else EXIT_BAD_INPUT)
