"""Fetching what a hook call's prefetch lacks from the client's FHIR server.

Input: the `fhirServer` base URL, the `fhirAuthorization` bearer token (if the client gave
one), the templates still missing, the patient id, and the limits. Output: each template's data
as (parsed JSON, text), as if the client had prefetched it: a read gives the resource (a 404 on
the Patient read gives null), a search gives one searchset Bundle with the entries of every
page; or `FhirFetchError`, which the application answers with 412 (the CDS Hooks status for
"cannot get the data it needs").

Bounds: each HTTP request has its own timeout; a search follows at most `fhir_max_pages` `next`
links, and only to the same server; the bytes of one call's fetches are capped; redirects are
not followed. The token is sent only to the server the client named and is never logged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import httpx

from leukorules.service.config import Limits
from leukorules.service.prefetch import MAX_DEPTH, Template, too_deep

FHIR_JSON = "application/fhir+json"


class FhirFetchError(Exception):
    """The FHIR server did not give the data; the message says what happened (no token, no
    patient data)."""


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise FhirFetchError("the FHIR server's answers exceed the service's size limit")


async def fetch_missing(
    client: httpx.AsyncClient,
    server: str,
    token: str | None,
    missing: Sequence[Template],
    patient_id: str,
    limits: Limits,
) -> dict[str, tuple[Any, str]]:
    base = server.rstrip("/")
    headers = {"Accept": FHIR_JSON}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    budget = _Budget(limits.fhir_max_bytes)

    async def one(template: Template) -> tuple[str, tuple[Any, str]]:
        url = f"{base}/{template.fill(patient_id)}"
        if "?" not in template.query:  # a read
            found = await _get(client, url, headers, limits, budget, allow_missing=True)
            if found is None:
                return template.key, (None, "null")
            return template.key, found
        return template.key, await _search(client, base, url, headers, limits, budget)

    results = await asyncio.gather(*(one(t) for t in missing))
    return dict(results)


async def _search(
    client: httpx.AsyncClient,
    base: str,
    url: str,
    headers: dict[str, str],
    limits: Limits,
    budget: _Budget,
) -> tuple[Any, str]:
    entries: list[Any] = []
    next_url: str | None = url
    pages = 0
    while next_url is not None:
        pages += 1
        if pages > limits.fhir_max_pages:
            raise FhirFetchError(
                f"the FHIR server's search has more than {limits.fhir_max_pages} pages"
            )
        found = await _get(client, next_url, headers, limits, budget, allow_missing=False)
        assert found is not None
        page = found[0]
        if not isinstance(page, dict) or page.get("resourceType") != "Bundle":
            raise FhirFetchError("the FHIR server answered a search with something not a Bundle")
        page_entries = page.get("entry", [])
        if not isinstance(page_entries, list):
            raise FhirFetchError("the FHIR server's Bundle.entry is not a list")
        entries.extend(page_entries)
        next_url = _next_link(page)
        if next_url is not None and not (next_url == base or next_url.startswith(base + "/")):
            raise FhirFetchError("the FHIR server's next page is on another server")
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    return bundle, json.dumps(bundle)


def _next_link(page: dict[str, Any]) -> str | None:
    links = page.get("link", [])
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            target = link.get("url")
            return target if isinstance(target, str) else None
    return None


async def _get(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    limits: Limits,
    budget: _Budget,
    allow_missing: bool,
) -> tuple[Any, str] | None:
    try:
        async with client.stream(
            "GET", url, headers=headers, timeout=limits.fhir_timeout_seconds
        ) as response:
            if allow_missing and response.status_code in (404, 410):
                return None
            if response.status_code in (401, 403):
                raise FhirFetchError(
                    f"the FHIR server refused the request (HTTP {response.status_code}): "
                    "the fhirAuthorization token is missing, expired or lacks a scope"
                )
            if response.status_code != 200:
                raise FhirFetchError(f"the FHIR server answered HTTP {response.status_code}")
            chunks = []
            async for chunk in response.aiter_bytes():
                budget.take(len(chunk))
                chunks.append(chunk)
    except httpx.TimeoutException:
        raise FhirFetchError("the FHIR server did not answer in time") from None
    except httpx.HTTPError as error:
        raise FhirFetchError(
            f"the FHIR server cannot be reached ({type(error).__name__})"
        ) from None
    raw = b"".join(chunks)
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FhirFetchError("the FHIR server's answer is not JSON") from None
    if too_deep(data):
        raise FhirFetchError(f"the FHIR server's answer nests deeper than {MAX_DEPTH} levels")
    return data, text
