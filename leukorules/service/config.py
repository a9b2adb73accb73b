"""The service's settings: what `leukorules serve` options and a config file give.

Input: command-line values and, optionally, a TOML config file (`--config FILE`). Output: a
frozen `ServiceConfig`; `ConfigError` with a message for people when a setting is wrong (an
issuer given twice, a limit that is not a positive number, an unknown key). Options given on the
command line win over the file; lists (policies, trusted issuers) from both are joined.

The config file (every key optional):

    [service]
    policies = ["policies/leukoencephalopathy"]   # relative to the file
    host = "127.0.0.1"
    port = 8080
    base_url = "https://cds.example.org"          # the URL EHRs call; JWT `aud` is checked on it
    log = "decisions.db"
    cors_origins = ["https://ehr.example.org"]

    [[trust]]
    issuer = "https://ehr.example.org"
    jwks = "https://ehr.example.org/.well-known/jwks.json"   # or a JWKS file

    [limits]
    max_body_bytes = 4194304
    request_timeout_seconds = 10
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from leukorules.reading import SourceError, read_source

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


class ConfigError(ValueError):
    """A setting the service cannot start with; the message says which and why."""


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An EHR whose JSON Web Tokens the service accepts: its `iss`, and where its JSON Web Key
    Set is (an http(s) URL, or a file)."""

    issuer: str
    jwks: str

    def __post_init__(self) -> None:
        # the decision log's user label is made from iss (and sub): short, printable text
        if not 0 < len(self.issuer) <= 90 or any(ord(ch) < 32 for ch in self.issuer):
            raise ConfigError(f"issuer {self.issuer!r}: at most 90 printable characters")


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one request, and the service as a whole, may cost."""

    max_body_bytes: int = 4 * 1024 * 1024
    request_timeout_seconds: float = 10.0
    # FHIR server fetches: each request, the pages of one search, the bytes of one call.
    fhir_timeout_seconds: float = 5.0
    fhir_max_pages: int = 20
    fhir_max_bytes: int = 16 * 1024 * 1024
    # The HTML reports cards link to: how many are kept, and for how long.
    max_reports: int = 1000
    report_ttl_seconds: float = 3600.0
    # JWT: the jti replay cache (each jti is kept until its token expires), the longest token
    # lifetime accepted (it bounds how long a jti must be kept), the clock skew allowed.
    max_jti: int = 200_000
    max_token_lifetime_seconds: float = 600.0
    clock_skew_seconds: float = 30.0
    # Hook calls evaluated at once (threads); the others wait their turn.
    workers: int = 4

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"limits.{item.name} must be a positive number, not {value!r}")
            if item.type == "int" and not isinstance(value, int):
                raise ConfigError(f"limits.{item.name} must be a whole number, not {value!r}")


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Everything the application needs; build with `ServiceConfig.build` (it checks)."""

    policies: tuple[Path, ...]
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    base_url: str = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    trusted: tuple[TrustedIssuer, ...] = ()
    insecure_no_auth: bool = False
    log: Path | None = None
    cors_origins: tuple[str, ...] = ("*",)
    limits: Limits = field(default_factory=Limits)

    @staticmethod
    def build(
        *,
        policies: Sequence[Path] = (),
        host: str | None = None,
        port: int | None = None,
        base_url: str | None = None,
        trust: Sequence[str] = (),
        config_file: Path | None = None,
        insecure_no_auth: bool = False,
        log: Path | None = None,
        default_policy: Path | None = None,
    ) -> ServiceConfig:
        """Command-line values over the config file's; `trust` items are `ISSUER=JWKS`."""
        loaded = _read_file(config_file) if config_file is not None else _FileSettings()
        chosen_host = host or loaded.host or DEFAULT_HOST
        chosen_port = port if port is not None else (loaded.port or DEFAULT_PORT)
        issuers = [*loaded.trusted, *(_trust_option(item) for item in trust)]
        seen: set[str] = set()
        for issuer in issuers:
            if issuer.issuer in seen:
                raise ConfigError(f"issuer {issuer.issuer} is trusted twice; give it once")
            seen.add(issuer.issuer)
        chosen_policies = tuple(policies) or loaded.policies
        if not chosen_policies and default_policy is not None:
            chosen_policies = (default_policy,)
        url = base_url or loaded.base_url or f"http://{_url_host(chosen_host)}:{chosen_port}"
        return ServiceConfig(
            policies=chosen_policies,
            host=chosen_host,
            port=chosen_port,
            base_url=_checked_base_url(url),
            trusted=tuple(issuers),
            insecure_no_auth=insecure_no_auth,
            log=log or loaded.log,
            cors_origins=loaded.cors_origins,
            limits=loaded.limits,
        )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _checked_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"base URL {url!r} is not an http(s) address")
    if parts.query or parts.fragment:
        raise ConfigError(f"base URL {url!r} must not hold a query or a fragment")
    return url.rstrip("/")


def _trust_option(text: str) -> TrustedIssuer:
    issuer, sep, jwks = text.partition("=")
    # an issuer URL holds no '=' in practice; a JWKS URL may (a query string)
    if not sep or not issuer.strip() or not jwks.strip():
        raise ConfigError(f"--trust {text!r}: expected ISSUER=JWKS_FILE_OR_URL")
    return TrustedIssuer(issuer.strip(), jwks.strip())


@dataclass(frozen=True, slots=True)
class _FileSettings:
    policies: tuple[Path, ...] = ()
    host: str | None = None
    port: int | None = None
    base_url: str | None = None
    log: Path | None = None
    cors_origins: tuple[str, ...] = ("*",)
    trusted: tuple[TrustedIssuer, ...] = ()
    limits: Limits = field(default_factory=Limits)


_SERVICE_KEYS = {"policies", "host", "port", "base_url", "log", "cors_origins"}
_TRUST_KEYS = {"issuer", "jwks"}


def _read_file(path: Path) -> _FileSettings:
    try:
        source = read_source(path)
    except SourceError as error:
        raise ConfigError(f"config file {path}: {error.diagnostic.message}") from None
    except OSError as error:
        raise ConfigError(f"config file {path}: {error.strerror or error}") from None
    try:
        data = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not TOML: {error}") from None
    unknown = set(data) - {"service", "trust", "limits"}
    if unknown:
        raise ConfigError(f"config file {path}: unknown table {sorted(unknown)[0]!r}")
    base = path.parent
    service = _table(data.get("service", {}), "service", _SERVICE_KEYS, path)
    trusted = []
    raw_trust = data.get("trust", [])
    if not isinstance(raw_trust, list):
        raise ConfigError(f"config file {path}: [[trust]] must be an array of tables")
    for item in raw_trust:
        table = _table(item, "trust", _TRUST_KEYS, path)
        issuer, jwks = table.get("issuer"), table.get("jwks")
        if not isinstance(issuer, str) or not isinstance(jwks, str):
            raise ConfigError(f"config file {path}: each [[trust]] needs issuer and jwks texts")
        is_url = urlsplit(jwks).scheme in ("http", "https")
        trusted.append(TrustedIssuer(issuer, jwks if is_url else str(base / jwks)))
    limits_table = _table(data.get("limits", {}), "limits", _limit_names(), path)
    try:
        limits = Limits(**limits_table)  # type: ignore[arg-type]
    except TypeError as error:
        raise ConfigError(f"config file {path}: {error}") from None
    return _FileSettings(
        policies=tuple(base / p for p in _texts(service.get("policies", []), "policies", path)),
        host=_optional_text(service.get("host"), "host", path),
        port=_optional_port(service.get("port"), path),
        base_url=_optional_text(service.get("base_url"), "base_url", path),
        log=(base / str(service["log"])) if "log" in service else None,
        cors_origins=tuple(_texts(service.get("cors_origins", ["*"]), "cors_origins", path)),
        trusted=tuple(trusted),
        limits=limits,
    )


def _limit_names() -> set[str]:
    return {item.name for item in dataclasses.fields(Limits)}


def _table(value: object, name: str, allowed: set[str], path: Path) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise ConfigError(f"config file {path}: [{name}] must be a table")
    unknown = set(value) - allowed
    if unknown:
        raise ConfigError(f"config file {path}: unknown key {name}.{sorted(unknown)[0]}")
    return value


def _texts(value: object, name: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"config file {path}: service.{name} must be a list of texts")
    return list(value)


def _optional_text(value: object, name: str, path: Path) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"config file {path}: service.{name} must be a text")
    return value


def _optional_port(value: object, path: Path) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigError(f"config file {path}: service.port must be a port number")
    return value
