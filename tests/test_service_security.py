"""The CDS Hooks service's security and limits over real HTTP on loopback: every way a token can
be wrong (401 and no card), malformed requests (400 with a message naming the field), bodies
past the limit (413), the time limit (503), CORS, no patient data in any log line, concurrent
decisions all in the verified decision log, and the service refusing to start without a
trusted issuer unless told, loudly, to run without authentication.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from click.testing import CliRunner
from service_helpers import (
    FIXED_TODAY,
    ISSUER,
    LiveServer,
    Signer,
    fhir_server_app,
    hook_request,
    load_bundle,
    patient_id_of,
    prefetch_of,
    resources_of,
    write_jwks,
)
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from leukorules.audit import open_log
from leukorules.audit.verify import verify_log
from leukorules.cli import main
from leukorules.service.app import SetupError, build_state, create_app
from leukorules.service.config import ServiceConfig
from leukorules.syntax.grammar import bundled_policy_dir

SERVICE = "leukoencephalopathy"
URL_ISSUER = "https://other-ehr.example.org"


@pytest.fixture(scope="module")
def rsa_signer() -> Signer:
    return Signer("rsa", "rsa-1")


@pytest.fixture(scope="module")
def ec_signer() -> Signer:
    return Signer("ec", "ec-1")


@pytest.fixture(scope="module")
def url_signer() -> Signer:
    return Signer("ec", "url-ec-1", issuer=URL_ISSUER)


@pytest.fixture(scope="module")
def jwks_server(url_signer: Signer) -> Iterator[LiveServer]:
    """An issuer publishing its key set over HTTP, as EHRs do."""

    async def keys(request: Any) -> JSONResponse:
        return JSONResponse({"keys": [url_signer.jwk]})

    with LiveServer(lambda url: Starlette(routes=[Route("/jwks.json", keys)])) as server:
        yield server


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("log") / "decisions.db"


@pytest.fixture(scope="module")
def service(
    rsa_signer: Signer,
    ec_signer: Signer,
    jwks_server: LiveServer,
    log_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("keys")
    jwks = write_jwks(folder / "jwks.json", rsa_signer, ec_signer)
    config_file = folder / "service.toml"
    config_file.write_text(
        f'[service]\ncors_origins = ["https://ehr.example.org"]\n\n'
        f'[[trust]]\nissuer = "{URL_ISSUER}"\njwks = "{jwks_server.url}/jwks.json"\n\n'
        "[limits]\nmax_body_bytes = 65536\n",
        encoding="utf-8",
    )

    def make(url: str) -> Any:
        config = ServiceConfig.build(
            policies=[bundled_policy_dir()],
            base_url=url,
            trust=[f"{ISSUER}={jwks}"],
            config_file=config_file,
            log=log_path,
        )
        state = build_state(config)
        state.today = lambda: FIXED_TODAY
        return create_app(state)

    with LiveServer(make) as server:
        yield server


def service_url(server: LiveServer, service: str = SERVICE) -> str:
    return f"{server.url}/cds-services/{service}"


def good_request(name: str = "adem-steroid-nonresponder") -> dict[str, Any]:
    bundle = load_bundle(name)
    return hook_request(patient_id_of(bundle), prefetch_of(bundle))


def post(server: LiveServer, token: str | None, body: Any, **headers: str) -> httpx.Response:
    sent = dict(headers)
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if isinstance(body, bytes):
        sent.setdefault("Content-Type", "application/json")
        return httpx.post(service_url(server), content=body, headers=sent, timeout=30)
    return httpx.post(service_url(server), json=body, headers=sent, timeout=30)


def assert_unauthorized(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert "cards" not in body
    assert body["error"] == "unauthorized"
    assert reason in body["message"]
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


# --- authentication ----------------------------------------------------------------------------


def test_valid_tokens_of_each_kind_of_key_are_accepted(
    service: LiveServer, rsa_signer: Signer, ec_signer: Signer, url_signer: Signer
) -> None:
    url = service_url(service)
    for signer in (rsa_signer, ec_signer, url_signer):
        response = post(service, signer.token(url), good_request())
        assert response.status_code == 200, response.text
        assert response.json()["cards"]
    # aud may be a list holding the service's URL
    response = post(service, rsa_signer.token([url, "https://elsewhere"]), good_request())
    assert response.status_code == 200


def test_no_token_is_401(service: LiveServer) -> None:
    assert_unauthorized(post(service, None, good_request()), "no Authorization header")
    response = httpx.post(
        service_url(service), json=good_request(), headers={"Authorization": "Basic dXNlcjpw"}
    )
    assert_unauthorized(response, "Bearer")
    assert_unauthorized(post(service, "not.a.jwt", good_request()), "not a JSON Web Token")


def test_a_bad_signature_is_401(service: LiveServer, rsa_signer: Signer) -> None:
    impostor = Signer("rsa", rsa_signer.kid)  # the same kid, another key
    assert_unauthorized(
        post(service, impostor.token(service_url(service)), good_request()), "signature"
    )
    # a valid token with its payload changed after signing
    header, payload, signature = rsa_signer.token(service_url(service)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "somebody-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert_unauthorized(
        post(service, f"{header}.{forged}.{signature}", good_request()), "signature"
    )


def test_a_wrong_audience_is_401(service: LiveServer, rsa_signer: Signer) -> None:
    for aud in (f"{service.url}/cds-services", f"{service.url}/cds-services/other", "https://x"):
        assert_unauthorized(post(service, rsa_signer.token(aud), good_request()), "aud")


def test_an_expired_token_is_401(service: LiveServer, rsa_signer: Signer) -> None:
    token = rsa_signer.token(service_url(service), issued=time.time() - 600, lifetime=300)
    assert_unauthorized(post(service, token, good_request()), "expired")


def test_a_token_issued_in_the_future_is_401(service: LiveServer, rsa_signer: Signer) -> None:
    token = rsa_signer.token(service_url(service), issued=time.time() + 300, lifetime=60)
    assert_unauthorized(post(service, token, good_request()), "future")


def test_a_replayed_jti_is_401(service: LiveServer, rsa_signer: Signer) -> None:
    token = rsa_signer.token(service_url(service))
    assert post(service, token, good_request()).status_code == 200
    assert_unauthorized(post(service, token, good_request()), "replay")
    # the same jti in a new token is a replay too
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    again = rsa_signer.token(service_url(service), jti=jti)
    assert_unauthorized(post(service, again, good_request()), "replay")


def test_an_unknown_issuer_is_401(service: LiveServer) -> None:
    stranger = Signer("rsa", "rsa-1", issuer="https://unknown-ehr.example.org")
    assert_unauthorized(
        post(service, stranger.token(service_url(service)), good_request()), "not trusted"
    )


def test_unsigned_and_symmetric_tokens_are_401(service: LiveServer, rsa_signer: Signer) -> None:
    claims = {
        "iss": ISSUER,
        "aud": service_url(service),
        "iat": int(time.time()),
        "exp": int(time.time()) + 300,
        "jti": "x-1",
    }
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "rsa-1"})
    assert_unauthorized(post(service, unsigned, good_request()), "asymmetric")
    hmac = jwt.encode(
        claims, "a shared secret of thirty-two bytes!", algorithm="HS256", headers={"kid": "rsa-1"}
    )
    assert_unauthorized(post(service, hmac, good_request()), "asymmetric")


def test_tokens_lacking_a_claim_or_a_kid_are_401(service: LiveServer, rsa_signer: Signer) -> None:
    url = service_url(service)
    for claim in ("jti", "exp", "iat"):
        assert_unauthorized(
            post(service, rsa_signer.token(url, **{claim: None}), good_request()), claim
        )
    unknown_kid = Signer("rsa", "no-such-kid")
    assert_unauthorized(post(service, unknown_kid.token(url), good_request()), "kid")
    no_kid = jwt.encode(
        {
            "iss": ISSUER,
            "aud": url,
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "jti": "k",
        },
        rsa_signer.private,
        algorithm="RS384",
    )
    assert_unauthorized(post(service, no_kid, good_request()), "kid")


def test_a_token_living_too_long_is_401(service: LiveServer, rsa_signer: Signer) -> None:
    token = rsa_signer.token(service_url(service), lifetime=7200)
    assert_unauthorized(post(service, token, good_request()), "longer than")


# --- malformed requests --------------------------------------------------------------------------


def test_malformed_requests_are_400_naming_what_is_wrong(
    service: LiveServer, rsa_signer: Signer
) -> None:
    def bad(body: Any, expected: str) -> None:
        response = post(service, rsa_signer.token(service_url(service)), body)
        assert response.status_code == 400, (expected, response.text)
        payload = response.json()
        assert payload["error"] == "bad_request" and "cards" not in payload
        assert expected in payload["message"], (expected, payload["message"])

    bad(b"{not json", "not JSON")
    bad([1, 2], "request: Input should be a valid dictionary")
    request = good_request()
    del request["hook"]
    bad(request, "request.hook: Field required")
    request = good_request()
    del request["context"]["patientId"]
    bad(request, "context.patientId: Field required")
    request = good_request()
    request["context"]["patientId"] = "../Patient/other"
    bad(request, "context.patientId")
    request = good_request()
    request["hook"] = "order-sign"
    bad(request, "answers patient-view and order-select, not 'order-sign'")
    request = good_request()
    request["fhirAuthorization"] = {
        "access_token": "t",
        "token_type": "Bearer",
        "expires_in": 60,
        "scope": "s",
        "subject": "x",
    }
    bad(request, "fhirAuthorization is given without fhirServer")
    request = good_request()
    request["fhirServer"] = "http://fhir.example.org/r4"
    bad(request, "https")
    request = good_request()
    request["prefetch"]["conditions"] = "not a resource"
    bad(request, "request.prefetch.conditions")
    request = good_request()
    request["hook"] = "order-select"
    bad(request, "context.selections: Field required")
    request = good_request()
    request["hookInstance"] = "line\nbreak"
    bad(request, "request.hookInstance")
    bad(b"[" * 30_000 + b"]" * 30_000, "nests deeper than 64")
    request = good_request()
    request["prefetch"]["conditions"]["entry"][0]["resource"]["note"] = json.loads(
        "[" * 70 + "]" * 70
    )
    bad(request, "nests deeper than 64")


def test_a_body_that_is_not_json_typed_is_415(service: LiveServer, rsa_signer: Signer) -> None:
    body = json.dumps(good_request()).encode()
    token = rsa_signer.token(service_url(service))
    response = post(service, token, body, **{"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "cards" not in response.json()


def test_an_unknown_service_is_404(service: LiveServer, rsa_signer: Signer) -> None:
    url = f"{service.url}/cds-services/nope"
    response = httpx.post(
        url, json=good_request(), headers={"Authorization": f"Bearer {rsa_signer.token(url)}"}
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- limits ------------------------------------------------------------------------------------


def test_a_body_past_the_limit_is_413_declared_or_streamed(
    service: LiveServer, rsa_signer: Signer
) -> None:
    request = good_request()
    request["extension"] = {"padding": "x" * 100_000}
    body = json.dumps(request).encode()
    # declared: refused before the token is even looked at
    response = post(service, None, body)
    assert response.status_code == 413
    assert "65536 bytes" in response.json()["message"]

    # streamed without a length: refused as it passes the limit
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = httpx.post(
        service_url(service),
        content=chunks(),
        headers={
            "Authorization": f"Bearer {rsa_signer.token(service_url(service))}",
            "Content-Type": "application/json",
        },
        timeout=30,
    )
    assert response.status_code == 413
    assert "cards" not in response.json()


def half_second_service(signer: Signer, folder: Path) -> Callable[[str], Any]:
    """A service factory (for `LiveServer`) trusting `signer`, whose requests may take 0.5 s."""
    jwks = write_jwks(folder / "jwks.json", signer)
    config_file = folder / "slow.toml"
    config_file.write_text("[limits]\nrequest_timeout_seconds = 0.5\n", encoding="utf-8")

    def make(url: str) -> Any:
        config = ServiceConfig.build(
            policies=[bundled_policy_dir()],
            base_url=url,
            trust=[f"{ISSUER}={jwks}"],
            config_file=config_file,
        )
        return create_app(build_state(config))

    return make


def test_a_decision_past_the_time_limit_is_503(rsa_signer: Signer, tmp_path: Path) -> None:
    bundle = load_bundle("adem-steroid-nonresponder")
    make = half_second_service(rsa_signer, tmp_path)

    slow_fhir = fhir_server_app(resources_of(bundle), token=None, delay=3.0)
    with LiveServer(make) as server, LiveServer(slow_fhir) as fhir:
        url = service_url(server)
        request = hook_request(patient_id_of(bundle), None, fhirServer=fhir.url)
        started = time.monotonic()
        response = httpx.post(
            url,
            json=request,
            headers={"Authorization": f"Bearer {rsa_signer.token(url)}"},
            timeout=30,
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "longer than 0.5 s" in response.json()["message"]
    assert "cards" not in response.json()
    assert elapsed < 2.5


def test_a_body_sent_too_slowly_is_503(rsa_signer: Signer, tmp_path: Path) -> None:
    make = half_second_service(rsa_signer, tmp_path)

    body = json.dumps(good_request()).encode()

    def trickle() -> Iterator[bytes]:
        for start in range(0, len(body), len(body) // 4 + 1):
            time.sleep(0.3)
            yield body[start : start + len(body) // 4 + 1]

    with LiveServer(make) as server:
        url = service_url(server)
        response = httpx.post(
            url,
            content=trickle(),
            headers={
                "Authorization": f"Bearer {rsa_signer.token(url)}",
                "Content-Type": "application/json",
            },
            timeout=30,
        )
    assert response.status_code == 503
    assert "cards" not in response.json()


# --- CORS --------------------------------------------------------------------------------------


def test_cors_preflight_allows_the_configured_origin_only(service: LiveServer) -> None:
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(
            service_url(service),
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )

    allowed = preflight("https://ehr.example.org")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://ehr.example.org"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers
    refused = preflight("https://evil.example.org")
    assert "access-control-allow-origin" not in refused.headers
    discovery = httpx.get(
        f"{service.url}/cds-services", headers={"Origin": "https://ehr.example.org"}
    )
    assert discovery.headers["access-control-allow-origin"] == "https://ehr.example.org"


# --- logs ----------------------------------------------------------------------------------------


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


@pytest.fixture
def every_log_line() -> Iterator[Collect]:
    names = [
        "",
        "leukorules",
        "leukorules.service",
        "uvicorn",
        "uvicorn.error",
        "uvicorn.access",
        "httpx",
        "httpcore",
        "starlette",
    ]
    collect = Collect()
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(collect)
        logger.setLevel(logging.DEBUG)
    try:
        yield collect
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(collect)
            logger.setLevel(level)


def _raw_post(url: str, token: str, body: Any) -> tuple[int, str]:
    """A call made with urllib, which logs nothing: every captured line is the server's."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as failure:
        return failure.code, failure.read().decode()


def test_no_patient_data_reaches_any_log(
    service: LiveServer, rsa_signer: Signer, every_log_line: Collect
) -> None:
    import urllib.request

    secret_patient = "zq-9431-distinctive"
    secret_text = "Xylophonic encephalopathy of Quentin"
    request = good_request("hiv-associated-pml")
    old_patient = request["context"]["patientId"]
    request = json.loads(json.dumps(request).replace(old_patient, secret_patient))
    condition = request["prefetch"]["conditions"]["entry"][0]["resource"]
    condition["code"]["text"] = secret_text
    condition["code"]["coding"][0]["display"] = secret_text
    url = service_url(service)
    status, text = _raw_post(url, rsa_signer.token(url), request)
    assert status == 200
    cards = json.loads(text)["cards"]
    report = cards[0]["links"][0]["url"]
    report_id = report.rsplit("/", 1)[1]
    with urllib.request.urlopen(report, timeout=30) as page:
        assert page.status == 200
    # a malformed request and a refused token, which could echo what they were sent
    request["context"]["patientId"] = secret_patient + "/x"
    assert _raw_post(url, rsa_signer.token(url), request)[0] == 400
    assert _raw_post(url, "garbage." + secret_patient, request)[0] == 401
    time.sleep(0.2)
    logged = "\n".join(every_log_line.lines)
    assert "POST hook 200" in logged  # the access lines were captured
    assert "GET report 200" in logged
    assert "POST hook 401" in logged
    for secret in (secret_patient, secret_text, report_id, "hiv_positive", "Bearer", "pml"):
        assert secret not in logged, secret


# --- the decision log under concurrency --------------------------------------------------------


def test_concurrent_decisions_are_all_logged_and_the_chain_verifies(
    service: LiveServer, rsa_signer: Signer, log_path: Path
) -> None:
    with open_log(log_path) as log:
        before = len(list(log.rows()))
    names = ["adem-steroid-nonresponder", "hiv-associated-pml", "mycophenolate-pml-signs"]
    results: list[tuple[str, int]] = []
    lock = threading.Lock()

    def client(worker: int) -> None:
        with httpx.Client(timeout=60) as http:
            for i in range(8):
                request = good_request(names[(worker + i) % len(names)])
                url = service_url(service)
                response = http.post(
                    url, json=request, headers={"Authorization": f"Bearer {rsa_signer.token(url)}"}
                )
                with lock:
                    results.append((request["hookInstance"], response.status_code))

    threads = [threading.Thread(target=client, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for _, status in results] == [200] * 64
    report = verify_log(log_path)
    assert report.ok, report.problem
    with open_log(log_path) as log:
        rows = list(log.rows())
    assert len(rows) == before + 64
    assert {case for case, _ in results} <= {row.case for row in rows}


# --- starting the service ----------------------------------------------------------------------


def test_without_a_trusted_issuer_the_service_refuses_to_start() -> None:
    config = ServiceConfig.build(policies=[bundled_policy_dir()])
    with pytest.raises(SetupError, match="no trusted issuer"):
        build_state(config)
    result = CliRunner().invoke(main, ["serve", "--port", "8123"])
    assert result.exit_code == 1
    assert "no trusted issuer" in result.output
    assert "--insecure-no-auth" in result.output


def test_an_unreadable_key_set_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "jwks.json").write_text('{"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}')
    result = CliRunner().invoke(main, ["serve", "--trust", f"{ISSUER}={tmp_path / 'jwks.json'}"])
    assert result.exit_code == 1
    assert "symmetric" in result.output
    result = CliRunner().invoke(main, ["serve", "--trust", f"{ISSUER}={tmp_path / 'none.json'}"])
    assert result.exit_code == 1
    assert "none.json" in result.output


def test_without_the_serve_extra_one_line_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "uvicorn" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    result = CliRunner().invoke(main, ["serve", "--insecure-no-auth"])
    assert result.exit_code == 2
    assert "pip install 'leukorules[serve]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_insecure_mode_is_announced_and_accepts_calls_without_a_token(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "insecure.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leukorules",
            "serve",
            "--insecure-no-auth",
            "--port",
            str(port),
            "--log",
            str(log),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            lines.append(line)
            if "serving" in line or not line:
                break
        announced = "".join(lines)
        assert "NOT authenticated" in announced
        assert f"http://127.0.0.1:{port}/cds-services" in announced
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        response = httpx.post(
            f"http://127.0.0.1:{port}/cds-services/{SERVICE}", json=good_request(), timeout=30
        )
        assert response.status_code == 200
        assert response.json()["cards"]
    finally:
        process.terminate()
        process.wait(timeout=30)
    rest = process.stderr.read() if process.stderr else ""
    assert re.search(r"POST hook 200", rest)
    with open_log(log) as decisions:
        rows = list(decisions.rows())
    assert len(rows) == 1 and rows[0].user is None
