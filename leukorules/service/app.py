"""The ASGI application: routes, and the order in which a hook call is checked and answered.

Input: a `ServiceConfig`. Output: `build_state` (policies checked and compiled, trusted key sets
read, the decision log opened: `SetupError` with a message when any cannot be) and
`create_app(state)`, a Starlette application with

- `GET /cds-services`: the discovery document (public: it holds no patient data);
- `POST /cds-services/{id}`: a hook call, checked in this order: the service exists (404), the
  declared body size (413), the caller's JWT (401, no card), the body as it streams (413), JSON
  (415 for another content type, 400 when it does not parse), the request and the hook's context
  (400, naming each field), `fhirAuthorization` without `fhirServer` or a FHIR server over plain
  http off this machine (400), the data: prefetched, else fetched (412 when neither); then the
  decision, logged before it is shown (500 when it cannot be); all of it within
  `request_timeout_seconds` (503 after it);
- `GET /reports/{id}`: a decision's HTML report, while it is kept (404 after);
- `GET /openapi.json`: the OpenAPI description.

Why Starlette: a small ASGI toolkit with no dependency injection or automatic validation, so
every check above is a visible line of this file; uvicorn serves it. CORS: the origins in
`cors_origins` (default `*`) may call with `Authorization` and `Content-Type` headers; no
credentials (cookies) are ever accepted.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import logging
import traceback
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from leukorules.audit import AuditError
from leukorules.service.auth import AuthError, KeySetError, Verifier
from leukorules.service.config import ServiceConfig
from leukorules.service.decisions import DecisionWriter
from leukorules.service.fhirclient import FhirFetchError, fetch_missing
from leukorules.service.hooks import Call, Decision, PolicyService, decide
from leukorules.service.openapi import openapi_document
from leukorules.service.orders import CatalogueError, load_catalogue
from leukorules.service.prefetch import MAX_DEPTH, missing_keys, too_deep
from leukorules.service.protocol import CONTEXTS, CdsRequest, Discovery, dump
from leukorules.service.reports import ReportStore
from leukorules.service.web import AccessLog, BodyTooLarge, SecurityHeaders, error, read_body

LOGGER = logging.getLogger("leukorules.service")
# Requests up to this size are decided on the event loop; larger ones (and those with data
# fetched from a FHIR server, of unknown size) in a worker thread, under the time limit.
INLINE_BYTES = 256 * 1024


class SetupError(Exception):
    """The service cannot start; the message says why."""


@dataclass
class AppState:
    config: ServiceConfig
    services: dict[str, PolicyService]
    verifier: Verifier | None
    writer: DecisionWriter | None
    reports: ReportStore
    limiter: anyio.CapacityLimiter | None = None
    client: httpx.AsyncClient | None = None
    # The evaluation date (a FHIR Observation older than its binding allows says nothing of
    # now); tests fix it.
    today: Callable[[], datetime.date] = datetime.date.today

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def load_services(paths: Sequence[Path]) -> list[PolicyService]:
    """Each path a policy (file or folder): checked, compiled, with its order catalogue."""
    from leukorules.check import check_paths
    from leukorules.diagnostics import Severity
    from leukorules.engine.compile import compile_policy

    services: list[PolicyService] = []
    for path in paths:
        result = check_paths([path])
        if result.policy is None:
            errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
            raise SetupError(
                f"policy {path} has {len(errors)} error(s); run `leukorules check {path}`"
            )
        compiled = compile_policy(result.policy, result.sources)
        folder = path if path.is_dir() else path.parent
        try:
            catalogue = load_catalogue(result.policy, folder)
        except CatalogueError as error:
            raise SetupError(str(error)) from None
        service = PolicyService.of(compiled, folder, catalogue)
        if any(s.id == service.id for s in services):
            raise SetupError(f"two policies have the id {service.id!r}; a service id is unique")
        services.append(service)
    return services


def build_state(config: ServiceConfig) -> AppState:
    if not config.trusted and not config.insecure_no_auth:
        raise SetupError(
            "no trusted issuer: give --trust ISSUER=JWKS_FILE_OR_URL (or [[trust]] in the "
            "config file), or --insecure-no-auth to accept unauthenticated calls"
        )
    services = load_services(config.policies)
    verifier = None
    if config.trusted:
        verifier = Verifier(config.trusted, config.limits)
        try:
            verifier.load()
        except KeySetError as error:
            raise SetupError(str(error)) from None
    writer = None
    if config.log is not None:
        writer = DecisionWriter(config.log)
        try:
            writer.start()
        except AuditError as error:
            raise SetupError(str(error)) from None
    reports = ReportStore(config.limits.max_reports, config.limits.report_ttl_seconds)
    return AppState(config, {s.id: s for s in services}, verifier, writer, reports)


class _DropAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


def silence_server_access_log() -> None:
    """uvicorn's access line holds the request path, and a report's path is its only key: a
    filter drops every record of that logger, whatever handlers a logging configuration gives
    it (a filter outlives `dictConfig`, a `disabled` flag does not); `AccessLog` logs instead."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _DropAll) for f in access.filters):
        access.addFilter(_DropAll())


def create_app(state: AppState) -> Starlette:
    config = state.config

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        silence_server_access_log()
        state.limiter = anyio.CapacityLimiter(config.limits.workers)
        async with httpx.AsyncClient(follow_redirects=False) as client:
            state.client = client
            yield
        state.close()

    async def discovery(request: Request) -> JSONResponse:
        services = [d for s in state.services.values() for d in s.descriptions()]
        return JSONResponse(dump(Discovery(services=services)))

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(openapi_document(list(state.services)))

    async def report(request: Request) -> Response:
        html = state.reports.render(str(request.path_params["report_id"]))
        if html is None:
            return error(404, "not_found", "no such report, or it has expired")
        return HTMLResponse(html)

    async def hook(request: Request) -> Response:
        try:
            return await _hook(state, request)
        except Exception as failure:  # a bug: no message (it may hold patient data), no card
            frame = traceback.extract_tb(failure.__traceback__)[-1]
            LOGGER.error(
                "hook failed: %s at %s:%s", type(failure).__name__, frame.filename, frame.lineno
            )
            return error(500, "internal_error", "the service failed; no decision was made")

    routes = [
        Route("/cds-services", discovery, methods=["GET"]),
        Route("/cds-services/{service_id}", hook, methods=["POST"]),
        Route("/reports/{report_id}", report, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    middleware = [
        Middleware(AccessLog),
        Middleware(SecurityHeaders),
        Middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
            max_age=600,
        ),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


async def _hook(state: AppState, request: Request) -> Response:
    """The whole call under the time limit: a body sent slowly, a key set fetched again, the
    FHIR server and the decision all count."""
    seconds = state.config.limits.request_timeout_seconds
    try:
        with anyio.fail_after(seconds):
            return await _checked_call(state, request)
    except TimeoutError:
        return error(
            503,
            "timeout",
            f"the call took longer than {seconds:g} s; no cards were made (try again)",
        )


async def _checked_call(state: AppState, request: Request) -> Response:
    config = state.config
    service_id = str(request.path_params["service_id"])
    service = state.services.get(service_id)
    if service is None:
        return error(404, "not_found", f"no CDS service has the id {service_id[:80]!r}")
    limit = config.limits.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _too_large(limit)
    user = None
    if state.verifier is not None:
        audience = f"{config.base_url}/cds-services/{service_id}"
        try:
            caller = await state.verifier.verify(request.headers.get("authorization"), audience)
        except AuthError as failure:
            challenge = f'Bearer error="invalid_token", error_description="{failure.reason}"'
            return error(401, "unauthorized", failure.reason, {"WWW-Authenticate": challenge})
        user = caller.label()
    try:
        body = await read_body(request, limit)
    except BodyTooLarge:
        return _too_large(limit)
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type.split(";")[0].lower():
        return error(415, "unsupported_media_type", "send the hook request as application/json")
    parsed = _parse(body, service)
    if isinstance(parsed, Response):
        return parsed
    call_request, context = parsed
    problem = _fhir_server_problem(call_request)
    if problem is not None:
        return error(400, "bad_request", problem)
    return await _answer(state, service, call_request, context, user, len(body))


def _too_large(limit: int) -> Response:
    return error(413, "too_large", f"the request body is larger than {limit} bytes")


def _parse(body: bytes, service: PolicyService) -> tuple[CdsRequest, Any] | Response:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as failure:
        return error(400, "bad_request", f"the body is not JSON: {failure}"[:300])
    except RecursionError:
        data = None
    if data is None or too_deep(data, MAX_DEPTH):
        return error(400, "bad_request", f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        call_request = CdsRequest.model_validate(data)
    except ValidationError as failure:
        return error(400, "bad_request", _fields(failure, "request"))
    if call_request.hook not in service.hooks:
        hooks = " and ".join(service.hooks)
        return error(
            400, "bad_request", f"service {service.id} answers {hooks}, not {call_request.hook!r}"
        )
    try:
        context = CONTEXTS[call_request.hook].model_validate(call_request.context)
    except ValidationError as failure:
        return error(400, "bad_request", _fields(failure, "context"))
    return call_request, context


def _fields(failure: ValidationError, where: str) -> str:
    """Each wrong field and what is wrong with it; never the value that was sent."""
    problems = []
    for item in failure.errors(include_input=False, include_url=False)[:10]:
        location = ".".join(str(step) for step in (where, *item["loc"]))
        problems.append(f"{location}: {item['msg']}")
    return "malformed CDS Hooks request: " + "; ".join(problems)


def _fhir_server_problem(call_request: CdsRequest) -> str | None:
    server = call_request.fhirServer
    if call_request.fhirAuthorization is not None and server is None:
        return "fhirAuthorization is given without fhirServer"
    if server is None:
        return None
    parts = urlsplit(server)
    if parts.scheme == "https":
        return None
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return "fhirServer must be an https URL (plain http only on this machine)"
    return None


async def _answer(
    state: AppState,
    service: PolicyService,
    call_request: CdsRequest,
    context: Any,
    user: str | None,
    size: int,
) -> Response:
    config = state.config
    prefetch = call_request.prefetch or {}
    missing = missing_keys(service.templates, prefetch)
    fetched: dict[str, tuple[Any, str]] = {}
    if missing and call_request.fhirServer is None:
        missing = [t for t in missing if t.required]
        if missing:
            keys = ", ".join(t.key for t in missing)
            return error(
                412,
                "precondition_failed",
                f"the prefetch lacks {keys} and no fhirServer was given to fetch them from",
            )
    if missing and call_request.fhirServer is not None:
        token = (
            call_request.fhirAuthorization.access_token if call_request.fhirAuthorization else None
        )
        assert state.client is not None
        try:
            fetched = await fetch_missing(
                state.client,
                call_request.fhirServer,
                token,
                missing,
                context.patientId,
                config.limits,
            )
        except FhirFetchError as failure:
            return error(412, "precondition_failed", str(failure))
    reports_url = f"{config.base_url}/reports"
    log = state.writer is not None

    def compute() -> Decision:
        # no text for prefetched data: a problem is named by its FHIR path in the card, and the
        # line and column of a diagnostic (what the text is for) are never shown
        data: dict[str, tuple[Any, str]] = {key: (value, "") for key, value in prefetch.items()}
        data.update(fetched)
        call = Call(call_request, context, data, user, state.today())
        return decide(service, call, reports_url, log)

    if size <= INLINE_BYTES and not fetched:
        # A usual record is decided in a millisecond or two: on the event loop, without the
        # cost of a thread (and of handing the GIL back and forth); its size bounds the time.
        decision = compute()
    else:
        decision = await anyio.to_thread.run_sync(
            compute, limiter=state.limiter, abandon_on_cancel=True
        )
    if decision.log is not None and state.writer is not None:
        try:
            await state.writer.log(decision.log)
        except AuditError:
            LOGGER.error("decision not logged: the decision log refused it")
            return error(500, "not_logged", "the decision could not be logged, so it is not shown")
    if decision.report_id is not None and decision.report is not None:
        state.reports.keep(decision.report_id, decision.report)
    return JSONResponse({"cards": [dump(card) for card in decision.cards]})
