"""The one golden-file mechanism: compare an output with its reviewed copy, or (with `pytest
--update-golden`) rewrite the copy, to be reviewed in `git diff` before committing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Golden:
    """`check(path, actual)` in each golden test; `updating` for what only updating does."""

    updating: bool

    def check(self, path: Path, actual: str | bytes) -> None:
        if self.updating:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(actual if isinstance(actual, bytes) else actual.encode("utf-8"))
            return
        assert path.exists(), f"{path} is missing: run `pytest --update-golden` and review it"
        # Bytes, or text decoded without newline translation: a golden's line ends count.
        expected: str | bytes = path.read_bytes()
        if isinstance(actual, str):
            expected = expected.decode("utf-8")
        assert actual == expected, (
            f"the output differs from {path.name}; if the change is meant, run "
            "`pytest --update-golden` and review `git diff`"
        )
