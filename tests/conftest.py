"""Shared pytest options and fixtures: `--update-golden`, the `golden` fixture, and the
hypothesis profiles (`support.profiles`)."""

from __future__ import annotations

import pytest
from support.golden import Golden
from support.profiles import register

register()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden expected files from the current output instead of comparing",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """The golden-file check; rewrites the files instead when run with --update-golden."""
    return Golden(bool(request.config.getoption("--update-golden")))
