#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine, then runs every check:
# lint, format, strict typing, the bundled policy's properties and the whole pytest suite.
# `.ci/run` calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages for the browser test of the HTML report (headless Chromium).
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "run-tests: chromium is missing and cannot be installed here (need root and apt-get)" >&2
  fi
fi

python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e '.[test]'

ruff check leukorules tests benchmarks
ruff format --check leukorules tests benchmarks
mypy leukorules
# the bundled policy's safety properties, proven for every patient (docs/proofs.md)
leukorules prove policies/leukoencephalopathy

set +e
# Derandomized examples (tests/support/profiles.py): the same run on every machine.
HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}" python -m pytest -q "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "run-tests: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$status"
