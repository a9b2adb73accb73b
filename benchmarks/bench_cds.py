"""Benchmark: the CDS Hooks service under load (issue 15).

Run from the repository root (needs the `serve` extra):

    python benchmarks/bench_cds.py                 # 8 clients, 2,000 patient-view requests
    python benchmarks/bench_cds.py --requests 500  # shorter
    python benchmarks/bench_cds.py --no-write      # print only, leave RESULTS-cds.md alone

What it does: starts `leukorules serve` in its own process (the bundled policy, one trusted
issuer whose JWKS file holds a key made for the run, a decision log in a temporary folder),
waits until it answers, sends warm-up calls, then has `--clients` concurrent clients (asyncio
tasks, one keep-alive HTTP/1.1 connection each, a few lines of asyncio streams rather than an
HTTP library, so that the clients' CPU, on the same cores as the service, stays small) send
`--requests` patient-view calls with prefetch: the synthetic example records of examples/fhir/,
in turn, each call with its own token (signed before the clock starts: signing is the EHR's
cost, not the service's). Reports throughput and latency percentiles as the clients saw them
(request sent to response read), counts every answer that is not 200 with cards as an error,
then stops the service and checks the decision log: one row per call, `audit verify` passes.

Target (issue 15): p99 under 50 ms on this machine, zero errors, the log complete. The machine
has 2 cores shared with other work: the client and the service run on the same 2 cores, so the
numbers include the clients' own cost; the load average before and after is reported with them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leukorules.audit import open_log  # noqa: E402
from leukorules.audit.verify import verify_log  # noqa: E402

ISSUER = "https://ehr.bench.example"
SERVICE = "leukoencephalopathy"
PREFETCH_KINDS = {
    "conditions": "Condition",
    "observations": "Observation",
    "medicationstatements": "MedicationStatement",
    "medicationrequests": "MedicationRequest",
}
WARM_UP = 40


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _key(alg: str) -> tuple[Any, dict[str, Any]]:
    if alg.startswith("ES"):
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1()}[alg]
        private: Any = ec.generate_private_key(curve)
        public = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return private, {**public, "kid": "bench", "use": "sig", "alg": alg}


def _bodies(count: int) -> list[bytes]:
    records = sorted((REPO / "examples" / "fhir").glob("*.json"))
    prefetches = []
    for path in records:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        resources = [entry["resource"] for entry in bundle.get("entry", [])]
        patient = next(r for r in resources if r["resourceType"] == "Patient")
        prefetch: dict[str, Any] = {"patient": patient}
        for key, kind in PREFETCH_KINDS.items():
            found = [{"resource": r} for r in resources if r["resourceType"] == kind]
            prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": found}
        prefetches.append((patient["id"], prefetch))
    bodies = []
    for i in range(count):
        patient, prefetch = prefetches[i % len(prefetches)]
        request = {
            "hook": "patient-view",
            "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/bench", "patientId": patient},
            "prefetch": prefetch,
        }
        bodies.append(json.dumps(request).encode("utf-8"))
    return bodies


def _tokens(private: Any, alg: str, audience: str, count: int) -> list[str]:
    now = int(time.time())
    return [
        jwt.encode(
            {
                "iss": ISSUER,
                "sub": f"clinician-{i % 17}",
                "aud": audience,
                "iat": now,
                "exp": now + 300,
                "jti": str(uuid.uuid4()),
            },
            private,
            algorithm=alg,
            headers={"kid": "bench", "typ": "JWT"},
        )
        for i in range(count)
    ]


class _Connection:
    """One keep-alive HTTP/1.1 connection: a lean client, so that the clients' own CPU (they
    share the cores with the service) stays small beside what is measured."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("ascii")
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def _run(
    url: str, bodies: list[bytes], tokens: list[str], clients: int
) -> tuple[list[float], list[str], float]:
    parts = httpx.URL(url)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(bodies)):
        queue.put_nowait(i)
    latencies: list[float] = []
    errors: list[str] = []

    async def client() -> None:
        connection = _Connection(parts.host, parts.port or 80)
        try:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                try:
                    status, body = await connection.post(parts.path, bodies[i], tokens[i])
                    ok = status == 200 and body.startswith(b'{"cards":')
                    problem = "" if ok else f"HTTP {status}: {body[:200]!r}"
                except (OSError, ValueError, asyncio.IncompleteReadError) as failure:
                    problem = type(failure).__name__
                    await connection.close()
                    connection = _Connection(parts.host, parts.port or 80)
                latencies.append(time.perf_counter() - started)
                if problem:
                    errors.append(problem)
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - started


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--alg", choices=["ES256", "ES384", "RS256", "RS384"], default="ES384")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--max-load",
        type=float,
        default=None,
        help="wait (at most 10 minutes) until the 1-minute load average is at most this before "
        "starting: the cores are shared, and the figures are only worth comparing when quiet",
    )
    args = parser.parse_args()
    if args.max_load is not None:
        _wait_for_quiet(args.max_load, 600)

    folder = Path(tempfile.mkdtemp(prefix="bench-cds-"))
    private, public = _key(args.alg)
    (folder / "jwks.json").write_text(json.dumps({"keys": [public]}), encoding="utf-8")
    log = folder / "decisions.db"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/cds-services/{SERVICE}"
    load_before = os.getloadavg()
    server_log = (folder / "server.log").open("w", encoding="utf-8")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leukorules",
            "serve",
            "--port",
            str(port),
            "--trust",
            f"{ISSUER}={folder / 'jwks.json'}",
            "--log",
            str(log),
        ],
        stderr=server_log,
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/cds-services", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"the service did not start; see {folder / 'server.log'}")
            time.sleep(0.1)
        warm_bodies = _bodies(WARM_UP)
        warm_tokens = _tokens(private, args.alg, url, WARM_UP)
        _, warm_errors, _ = asyncio.run(_run(url, warm_bodies, warm_tokens, args.clients))
        if warm_errors:
            raise SystemExit(f"warm-up failed: {warm_errors[:3]}; see {folder / 'server.log'}")
        bodies = _bodies(args.requests)
        tokens = _tokens(private, args.alg, url, args.requests)
        cpu_before = _cpu_seconds(server.pid)
        clients_before = time.process_time()
        latencies, errors, elapsed = asyncio.run(_run(url, bodies, tokens, args.clients))
        clients_cpu = time.process_time() - clients_before
        server_cpu = _cpu_seconds(server.pid) - cpu_before
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        server_log.close()
    load_after = os.getloadavg()
    verification = verify_log(log)
    with open_log(log) as decisions:
        rows = sum(1 for _ in decisions.rows())
    expected_rows = WARM_UP + args.requests
    ms = [value * 1000 for value in latencies]
    result = {
        "requests": args.requests,
        "clients": args.clients,
        "alg": args.alg,
        "elapsed_s": elapsed,
        "throughput": args.requests / elapsed,
        "p50": _percentile(ms, 50),
        "p90": _percentile(ms, 90),
        "p99": _percentile(ms, 99),
        "max": max(ms),
        "mean": statistics.fmean(ms),
        "errors": len(errors),
        "server_cpu_ms_per_request": server_cpu * 1000 / args.requests if server_cpu else None,
        "clients_cpu_ms_per_request": clients_cpu * 1000 / args.requests,
        "log_rows": rows,
        "log_expected": expected_rows,
        "log_verified": verification.ok,
        "load_before": load_before,
        "load_after": load_after,
    }
    text = _report(result)
    print(text)
    if not args.no_write:
        (REPO / "benchmarks" / "RESULTS-cds.md").write_text(text, encoding="utf-8")
    failed = errors or not verification.ok or rows != expected_rows
    sys.exit(1 if failed else 0)


def _wait_for_quiet(max_load: float, patience: float) -> None:
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] > max_load and time.monotonic() < deadline:
        time.sleep(5)
    load = os.getloadavg()[0]
    if load > max_load:
        print(f"the load stayed above {max_load} (now {load:.2f}); measuring anyway", flush=True)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), in seconds; 0 where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _report(r: dict[str, Any]) -> str:
    target = "met" if r["p99"] < 50 and not r["errors"] else "NOT met"
    load = ", ".join(f"{x:.2f}" for x in r["load_before"])
    load_after = ", ".join(f"{x:.2f}" for x in r["load_after"])
    cpu = r["server_cpu_ms_per_request"]
    lines = [
        "# CDS Hooks service under load (`python benchmarks/bench_cds.py`)",
        "",
        f"Run {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, "
        f"{os.cpu_count()} cores (shared with other work), Python {platform.python_version()}; "
        f"load average (1, 5, 15 min) {load} before, {load_after} after. The clients and the "
        "service share these cores.",
        "",
        f"{r['clients']} concurrent clients, {r['requests']:,} `patient-view` calls with "
        f"prefetch (the examples/fhir records in turn), each with its own {r['alg']} token; "
        "the service logs every decision to a hash-chained decision log.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| throughput | {r['throughput']:.0f} requests/s ({r['elapsed_s']:.1f} s in all) |",
        f"| latency p50 | {r['p50']:.1f} ms |",
        f"| latency p90 | {r['p90']:.1f} ms |",
        f"| latency p99 | {r['p99']:.1f} ms (target < 50 ms: {target}) |",
        f"| latency max | {r['max']:.1f} ms |",
        f"| errors | {r['errors']} |",
        f"| service CPU per request | {cpu:.2f} ms |" if cpu else "| service CPU | unknown |",
        f"| clients' CPU per request | {r['clients_cpu_ms_per_request']:.2f} ms (same cores) |",
        f"| decision log | {r['log_rows']} rows of {r['log_expected']} expected (warm-up "
        f"included); `audit verify`: {'ok' if r['log_verified'] else 'FAILED'} |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
