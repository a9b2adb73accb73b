"""Who is calling: the CDS client's JSON Web Token, verified as CDS Hooks 2.0 asks.

Input: the `Authorization: Bearer` header of a request, the URL the client called (the
expected `aud`), and the trusted issuers with their JSON Web Key Sets (files, or http(s) URLs
fetched at start and again when a token names a key id the set lacks, at most once a minute).
Output: the `Caller` (`iss`, `sub`, `jti`) or `AuthError` with a short reason, which the
application answers with 401 and no card.

What is checked, in order: a bearer token is present; its header names an asymmetric algorithm
(no `none`, no HMAC: the specification forbids both) and a `kid`; `iss` is a trusted issuer;
the issuer's key set has that `kid`, of a type that fits the algorithm; the signature; `aud` is
the called URL (a string, or a list holding it); `exp` and `iat` are present, `exp` is in the
future and `iat` not (both with `clock_skew_seconds` of tolerance); the token lives at most
`max_token_lifetime_seconds`; `jti` is present and was not seen before for this issuer. The
jti cache keeps each jti until its token expires and holds at most `max_jti`; when it is full
of live entries, tokens are refused (fail closed) rather than a jti forgotten. A `jku` header is
never followed (fetching a URL a token names would let any token choose its own keys).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt import PyJWK

from leukorules.service.config import Limits, TrustedIssuer
from leukorules.service.expiring import ExpiringMap

ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
JWKS_MAX_BYTES = 1024 * 1024
REFRESH_INTERVAL_SECONDS = 60.0


class AuthError(Exception):
    """The request is not authenticated; `reason` is safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeySetError(Exception):
    """A trusted issuer's key set cannot be read; the message says why (startup refuses)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified caller: the user label of the decision log is made from `iss` and `sub`."""

    issuer: str
    subject: str | None
    jti: str

    def label(self) -> str:
        return self.issuer if self.subject is None else f"{self.subject} ({self.issuer})"


def _is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def parse_key_set(data: object, where: str) -> dict[str, PyJWK]:
    """A JWKS document -> its signing keys by `kid`; KeySetError for anything else."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise KeySetError(f"{where} is not a JSON Web Key Set (an object with a keys list)")
    keys: dict[str, PyJWK] = {}
    for item in data["keys"]:
        if not isinstance(item, dict):
            raise KeySetError(f"{where}: a key is not a JSON object")
        kid = item.get("kid")
        if not isinstance(kid, str) or not kid:
            raise KeySetError(f"{where}: a key has no kid (CDS Hooks requires one)")
        if item.get("use", "sig") != "sig":
            continue
        if "d" in item or item.get("kty") == "oct":
            raise KeySetError(f"{where}: key {kid} is private or symmetric; publish public keys")
        try:
            keys[kid] = PyJWK(item)
        except jwt.PyJWTError as error:
            raise KeySetError(f"{where}: key {kid} cannot be read: {error}") from None
    if not keys:
        raise KeySetError(f"{where} holds no signing key")
    return keys


class IssuerKeys:
    """One trusted issuer's keys, from a file (read once) or a URL (refreshable)."""

    def __init__(
        self, trusted: TrustedIssuer, clock: Callable[[], float], timeout: float = 5.0
    ) -> None:
        self.issuer = trusted.issuer
        self.source = trusted.jwks
        self.clock = clock
        self.timeout = timeout
        self.keys: dict[str, PyJWK] = {}
        self._fetched_at = -REFRESH_INTERVAL_SECONDS

    def load(self) -> None:
        """Read the key set now (at start): KeySetError when it cannot be read."""
        if _is_url(self.source):
            self.keys = parse_key_set(self._fetch_sync(), self.source)
            self._fetched_at = self.clock()
            return
        path = Path(self.source)
        try:
            with path.open("rb") as handle:
                raw = handle.read(JWKS_MAX_BYTES + 1)
        except OSError as error:
            raise KeySetError(f"JWKS file {path}: {error.strerror or error}") from None
        if len(raw) > JWKS_MAX_BYTES:
            raise KeySetError(f"JWKS file {path} is larger than {JWKS_MAX_BYTES} bytes")
        try:
            data = json.loads(raw)
        except ValueError:
            raise KeySetError(f"JWKS file {path} is not JSON") from None
        self.keys = parse_key_set(data, f"JWKS file {path}")

    def _fetch_sync(self) -> object:
        try:
            response = httpx.get(self.source, timeout=self.timeout, follow_redirects=False)
        except httpx.HTTPError as error:
            raise KeySetError(f"JWKS {self.source} cannot be fetched: {error}") from None
        return self._document(response)

    def _document(self, response: httpx.Response) -> object:
        if response.status_code != 200:
            raise KeySetError(f"JWKS {self.source} answered HTTP {response.status_code}")
        if len(response.content) > JWKS_MAX_BYTES:
            raise KeySetError(f"JWKS {self.source} is larger than {JWKS_MAX_BYTES} bytes")
        try:
            return response.json()
        except ValueError:
            raise KeySetError(f"JWKS {self.source} is not JSON") from None

    async def key(self, kid: str) -> PyJWK | None:
        """The key `kid`; a URL key set is fetched again (at most once a minute) when it lacks
        the kid, so an issuer can rotate keys without restarting the service."""
        found = self.keys.get(kid)
        if found is not None or not _is_url(self.source):
            return found
        if self.clock() - self._fetched_at < REFRESH_INTERVAL_SECONDS:
            return None
        self._fetched_at = self.clock()
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(self.source)
            self.keys = parse_key_set(self._document(response), self.source)
        except (httpx.HTTPError, KeySetError):
            return None  # keep the keys we have; this token is refused
        return self.keys.get(kid)


class Verifier:
    """Verifies bearer tokens against the trusted issuers; holds the jti replay cache."""

    def __init__(
        self,
        trusted: Sequence[TrustedIssuer],
        limits: Limits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.issuers: Mapping[str, IssuerKeys] = {
            t.issuer: IssuerKeys(t, time.monotonic) for t in trusted
        }
        # keyed by (issuer, jti); expiries in the token's own clock (seconds since the epoch)
        self.seen: ExpiringMap[tuple[str, str], bool] = ExpiringMap(
            limits.max_jti, evict=False, clock=clock
        )

    def load(self) -> None:
        for keys in self.issuers.values():
            keys.load()

    async def verify(self, authorization: str | None, audience: str) -> Caller:
        token = _bearer(authorization)
        try:
            # header and claims read once before the signature is checked: they say which key
            # checks it (the claims are trusted only after `_decode`)
            unread = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("the bearer token is not a JSON Web Token") from None
        header: dict[str, Any] = unread["header"]
        unverified: dict[str, Any] = unread["payload"]
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ASYMMETRIC:
            raise AuthError("the token must be signed with an asymmetric algorithm (RS*, PS*, ES*)")
        if not isinstance(kid, str) or not kid:
            raise AuthError("the token header has no kid")
        issuer = unverified.get("iss")
        keys = self.issuers.get(issuer) if isinstance(issuer, str) else None
        if keys is None or not isinstance(issuer, str):
            raise AuthError("the token's issuer is not trusted")
        key = await keys.key(kid)
        if key is None:
            raise AuthError("the issuer has no key with the token's kid")
        claims = self._decode(token, key, str(alg), issuer, audience)
        return self._remember(claims, issuer)

    def _decode(
        self, token: str, key: PyJWK, alg: str, issuer: str, audience: str
    ) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer,
                leeway=self.limits.clock_skew_seconds,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("the token is issued in the future") from None
        except jwt.InvalidAudienceError:
            raise AuthError(f"the token's aud is not {audience}") from None
        except jwt.MissingRequiredClaimError as error:
            raise AuthError(f"the token has no {error.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise AuthError("the token's signature does not verify") from None
        except jwt.PyJWTError as error:
            raise AuthError(f"the token is not valid: {type(error).__name__}") from None
        return claims

    def _remember(self, claims: Mapping[str, Any], issuer: str) -> Caller:
        jti, exp, subject = claims.get("jti"), claims.get("exp"), claims.get("sub")
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise AuthError("the token's jti must be a text of at most 256 characters")
        now = self.clock()
        if not isinstance(exp, int | float) or exp - now > self.limits.max_token_lifetime_seconds:
            limit = int(self.limits.max_token_lifetime_seconds)
            raise AuthError(f"the token lives longer than {limit} seconds")
        if subject is not None and (not isinstance(subject, str) or not _label_safe(subject)):
            raise AuthError("the token's sub must be a short printable text")
        if not _label_safe(issuer):
            raise AuthError("the token's iss must be a short printable text")
        kept_until = float(exp) + self.limits.clock_skew_seconds
        if self.seen.get((issuer, jti)) is not None:
            raise AuthError("the token's jti was used before (replay)")
        if not self.seen.add((issuer, jti), True, kept_until):
            raise AuthError("too many live tokens to remember; try again shortly")
        return Caller(issuer, subject, jti)


def _label_safe(text: str) -> bool:
    return 0 < len(text) <= 90 and all(32 <= ord(ch) != 127 for ch in text)


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("no Authorization header: a bearer JSON Web Token is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header is not `Bearer <token>`")
    return token.strip()
