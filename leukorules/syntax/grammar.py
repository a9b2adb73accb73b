"""Locating the shipped grammar and policies, in a checkout and in an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """`grammar` or `policies`: inside the wheel (`leukorules/_data`) or at the checkout root."""
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE_DIR.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"leukorules data folder {name!r} is missing from this installation "
        f"(looked in {installed} and {checkout})"
    )


@cache
def grammar_text() -> str:
    return (data_dir("grammar") / "leukorules.lark").read_text(encoding="utf-8")


def bundled_policy_dir(name: str = "leukoencephalopathy") -> Path:
    return data_dir("policies") / name
