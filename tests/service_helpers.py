"""Helpers for the CDS Hooks service tests: real HTTP on loopback, real keys, real tokens.

- `LiveServer`: an ASGI app served by uvicorn in a thread, on a port bound before the app is
  built (the app must know its own URL: the JWT audience and the report links).
- `Signer`: an EHR's signing key (RSA or EC, generated per test session) with its public JWK;
  `token(aud, ...)` signs the claims CDS Hooks asks for, each overridable.
- `fhir_server_app`: a tiny FHIR server: reads and searches over given resources, a bearer
  token required, searches paginated with `next` links, an optional delay.
- `prefetch_of` / `hook_request`: a Bundle split into the service's prefetch keys, and a request.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "fhir"
ISSUER = "https://ehr.example.org"
FIXED_TODAY = datetime.date(2025, 1, 20)  # the examples' records are dated 2025-01-15
PREFETCH_KINDS = {
    "conditions": "Condition",
    "observations": "Observation",
    "medicationstatements": "MedicationStatement",
    "medicationrequests": "MedicationRequest",
}


class LiveServer:
    def __init__(self, make_app: Callable[[str], Any]) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = make_app(self.url)
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.socket.close()


class Signer:
    def __init__(self, kind: str, kid: str, issuer: str = ISSUER) -> None:
        self.kid = kid
        self.issuer = issuer
        if kind == "rsa":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.alg = "RS384"
            public = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            self.private = ec.generate_private_key(ec.SECP384R1())
            self.alg = "ES384"
            public = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk = {**public, "kid": kid, "use": "sig", "alg": self.alg}

    def token(
        self,
        aud: str | list[str],
        *,
        lifetime: float = 300,
        issued: float | None = None,
        headers: Mapping[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = time.time() if issued is None else issued
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": aud,
            "iat": int(now),
            "exp": int(now + lifetime),
            "jti": str(uuid.uuid4()),
            "sub": "dr-who",
        }
        for name, value in claims.items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        header = {"kid": self.kid, "typ": "JWT", **(headers or {})}
        return jwt.encode(payload, self.private, algorithm=self.alg, headers=header)


def write_jwks(path: Path, *signers: Signer) -> Path:
    path.write_text(json.dumps({"keys": [s.jwk for s in signers]}), encoding="utf-8")
    return path


def load_bundle(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def resources_of(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", [])]


def patient_id_of(bundle: Mapping[str, Any]) -> str:
    return next(r["id"] for r in resources_of(bundle) if r["resourceType"] == "Patient")


def prefetch_of(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """The service's prefetch keys, answered from a Bundle as a client would."""
    resources = resources_of(bundle)
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    found: dict[str, Any] = {"patient": patients[0] if patients else None}
    for key, kind in PREFETCH_KINDS.items():
        found[key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources if r["resourceType"] == kind],
        }
    return found


def hook_request(
    patient_id: str,
    prefetch: Mapping[str, Any] | None,
    hook: str = "patient-view",
    **extra: Any,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
    }
    if prefetch is not None:
        request["prefetch"] = dict(prefetch)
    request.update(extra)
    return request


def fhir_server_app(
    resources: list[dict[str, Any]],
    token: str | None = "fhir-access-token",
    page_size: int = 2,
    delay: float = 0.0,
) -> Callable[[str], Starlette]:
    """A FHIR server of `resources`: `GET /{type}/{id}`, `GET /{type}?patient=ID` (paginated);
    `seen` records every request's path and Authorization header."""
    seen: list[tuple[str, str | None]] = []

    def make(base: str) -> Starlette:
        async def read(request: Request) -> Response:
            seen.append((request.url.path, request.headers.get("authorization")))
            if delay:
                await asyncio.sleep(delay)
            if token is not None and request.headers.get("authorization") != f"Bearer {token}":
                return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
            kind = request.path_params["kind"]
            rid = request.path_params.get("rid")
            if rid is not None:
                for resource in resources:
                    if resource["resourceType"] == kind and resource.get("id") == rid:
                        return JSONResponse(resource)
                return JSONResponse({"resourceType": "OperationOutcome"}, status_code=404)
            patient = request.query_params.get("patient")
            matching = [
                r
                for r in resources
                if r["resourceType"] == kind
                and r.get("subject", {}).get("reference") == f"Patient/{patient}"
            ]
            page = int(request.query_params.get("_page", "0"))
            chunk = matching[page * page_size : (page + 1) * page_size]
            bundle: dict[str, Any] = {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": r} for r in chunk],
            }
            if (page + 1) * page_size < len(matching):
                bundle["link"] = [
                    {"relation": "next", "url": f"{base}/{kind}?patient={patient}&_page={page + 1}"}
                ]
            return JSONResponse(bundle)

        app = Starlette(
            routes=[Route("/{kind}/{rid}", read), Route("/{kind}", read)],
        )
        app.state.seen = seen
        return app

    return make


@contextmanager
def served(make_app: Callable[[str], Any]) -> Iterator[LiveServer]:
    with LiveServer(make_app) as server:
        yield server
