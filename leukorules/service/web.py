"""The HTTP rules every answer of the service follows: what is logged, headers, errors, bodies.

Input: ASGI requests and responses. Output: `AccessLog` (middleware writing one line per
request: method, endpoint name, status, milliseconds, and an error code; never a path's ids,
a query string, a header, a body or an exception's message: those can hold patient data or a
report's capability id), `SecurityHeaders` (no caching and no sniffing of anything; a strict
Content-Security-Policy and no referrer on the HTML reports), `error` (the one JSON error shape,
never a card), and `read_body` (the request body, refused past the size limit as it streams).
"""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOGGER = logging.getLogger("leukorules.service")
# The HTML report is self-contained: inline CSS and SVG, no script, nothing fetched.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


class BodyTooLarge(Exception):
    pass


def error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    response = JSONResponse(
        {"error": code, "message": message}, status_code=status, headers=headers
    )
    response.headers["x-leukorules-error"] = code  # read by AccessLog, then removed
    return response


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def route_name(scope: Scope) -> str:
    """The name of the endpoint that answered (`report`), never the path with its ids."""
    name = getattr(scope.get("endpoint"), "__name__", None)
    return name if isinstance(name, str) else "(no route)"


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        code = ""

        async def sending(message: Message) -> None:
            nonlocal status, code
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k != b"x-leukorules-error"
                ]
                for key, value in message.get("headers", []):
                    if key == b"x-leukorules-error":
                        code = value.decode("latin-1")
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            LOGGER.info(
                "%s %s %d %.1fms%s",
                scope.get("method", "?"),
                route_name(scope),
                status,
                elapsed,
                f" {code}" if code else "",
            )


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_report = str(scope.get("path", "")).startswith("/reports/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                extra: MutableMapping[bytes, bytes] = {
                    b"cache-control": b"no-store",
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"no-referrer",
                }
                if is_report:
                    extra[b"content-security-policy"] = REPORT_POLICY.encode("ascii")
                present = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in extra.items() if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
