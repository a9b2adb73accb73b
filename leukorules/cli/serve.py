"""`leukorules serve`: the CDS Hooks service over HTTP (uvicorn running `leukorules.service`).

Exit status: 2 usage error (including a missing `serve` extra, named in one line with what to
install); 1 the service cannot start (a policy with errors, no trusted issuer and no
`--insecure-no-auth`, an unreadable key set, config file or decision log); 0 when it is stopped.
What it logs to stderr: one line per request (method, endpoint, status, time), never patient
data, a token, or a report's address.
"""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path

import click

from leukorules.cli.common import EXIT_USAGE, fail

INSECURE_BANNER = (
    "\n"
    "  !!! leukorules serve --insecure-no-auth: CDS Hooks calls are NOT authenticated. !!!\n"
    "  !!! Anyone who can reach this port can send patient data and read decisions.  !!!\n"
    "  !!! Use it on a test machine only; in production give --trust ISSUER=JWKS.    !!!\n"
)


@click.command()
@click.option(
    "--policy",
    "policies",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="A policy folder or file, served as the CDS service whose id is the policy id "
    "(repeatable: one service each); default: the bundled leukoencephalopathy policy.",
)
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 8080).")
@click.option(
    "--base-url",
    default=None,
    help="The URL EHRs call the service at (default http://HOST:PORT); a JWT's aud must be "
    "this URL followed by /cds-services/ID, and card links point here.",
)
@click.option(
    "--trust",
    multiple=True,
    metavar="ISSUER=JWKS",
    help="Accept JSON Web Tokens from ISSUER, verified with the JSON Web Key Set at JWKS (a "
    "file or an http(s) URL); repeatable.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A TOML config file (docs/cds-hooks.md): policies, trusted issuers, limits, CORS.",
)
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Accept calls without a JSON Web Token. For tests only; announced loudly.",
)
@click.option(
    "--log",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Append every decision to this hash-chained decision log (the caller's iss/sub as "
    "its user, the hookInstance as its case).",
)
def serve(
    policies: tuple[Path, ...],
    host: str | None,
    port: int | None,
    base_url: str | None,
    trust: tuple[str, ...],
    config_file: Path | None,
    insecure_no_auth: bool,
    log: Path | None,
) -> None:
    """Serve each policy as an HL7 CDS Hooks 2.0 service (patient-view, order-select).

    Without any trusted issuer the service refuses to start unless --insecure-no-auth is
    given. See docs/cds-hooks.md for registering the service with an EHR.
    """
    from leukorules.service import ServeExtraMissing, require_extra

    try:
        require_extra()
    except ServeExtraMissing as missing:
        fail(str(missing), EXIT_USAGE)
    from leukorules.service.app import SetupError, build_state, create_app
    from leukorules.service.config import ConfigError, ServiceConfig
    from leukorules.syntax.grammar import bundled_policy_dir

    try:
        config = ServiceConfig.build(
            policies=policies,
            host=host,
            port=port,
            base_url=base_url,
            trust=trust,
            config_file=config_file,
            insecure_no_auth=insecure_no_auth,
            log=log,
            default_policy=bundled_policy_dir(),
        )
        state = build_state(config)
    except (ConfigError, SetupError) as problem:
        fail(str(problem))
    if config.insecure_no_auth:
        click.echo(click.style(INSECURE_BANNER, fg="red", bold=True), err=True)
    import uvicorn

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    ids = ", ".join(state.services)
    click.echo(
        f"leukorules: serving {ids} at {config.base_url}/cds-services "
        f"(listening on {config.host}:{config.port})",
        err=True,
    )
    app = create_app(state)
    settle_heap()
    try:
        uvicorn.run(
            app,
            host=config.host,
            port=config.port,
            access_log=False,
            log_level="warning",
            server_header=False,
        )
    finally:
        state.close()


def settle_heap() -> None:
    """Start-up leaves a large heap that lives as long as the process (compiled policies, the
    FHIR models, every imported module). Frozen, the collector never walks it again: a full
    collection during a call costs a few milliseconds instead of up to 80 (measured with
    benchmarks/bench_cds.py: p99 93 ms -> 41 ms at the same load).

    A call makes a few hundred objects that live while it runs (the FHIR models of the record,
    the cards) but keeps a few dozen at most (its report and its jti, until they are dropped).
    The default first threshold of 700 is crossed inside nearly every third call: 1,025 young
    collections, 93 middle and 8 full ones (10 to 30 ms each, as the stored reports grow) in
    3,000 calls. At 10,000 it is crossed once in some 500 calls: 6 young collections and no
    other in the same 3,000 (measured in-process through the ASGI application, 8 calls at a
    time)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
