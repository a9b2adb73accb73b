"""The HTML report in a real browser: headless Chromium driven through chromedriver.

Checks that the report loads without a single console error or network request, that the key
texts are visible, that the chain diagram is drawn, that the trace opens, and that hostile text in
facts and statements stays text. What is above the fold is checked on a 1280x800 screen: the
browser's own layout says where each section starts, the recommendations (with strength and
evidence) must be on the first screen and the facts, chain and trace below it; the screenshot of
that first screen is saved beside the test's files for review. The browser is Debian's `chromium`
with `chromium-driver`; the WebDriver protocol is spoken over plain HTTP to the local chromedriver
(no Python package needed).

When Chromium or chromedriver is missing the test fails in CI (CI=true) and is skipped elsewhere.
`pytest --update-golden` also refreshes docs/report-example.png from the page it rendered.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.golden import Golden

from leukorules import load_policy
from leukorules.engine.facts_file import load_facts_file
from leukorules.report.html import render_html
from leukorules.result import Evaluation

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "patients" / "adem-plasma-exchange-nonresponder.yaml"
SCREENSHOT = ROOT / "docs" / "report-example.png"
FIRST_SCREEN = (1280, 800)  # a laptop screen: what a clinician sees before scrolling
PATIENTS = ROOT / "examples" / "patients"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C WebDriver element key


def _find_browser() -> tuple[str, str]:
    chromium = next(
        (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
    )
    driver = shutil.which("chromedriver")
    missing = [
        name
        for name, found in (("chromium", chromium), ("chromedriver (chromium-driver)", driver))
        if not found
    ]
    if missing:
        message = (
            f"{' and '.join(missing)} not installed: the browser test of the HTML report needs "
            "the Debian packages chromium and chromium-driver (run-tests.sh installs them)"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    assert chromium is not None and driver is not None
    return chromium, driver


class WebDriver:
    """The handful of W3C WebDriver commands this test needs, over HTTP to chromedriver."""

    def __init__(self, chromium: str, driver: str, profile: Path, log: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.log_file = log.open("wb")
        self.process = subprocess.Popen(
            [driver, f"--port={port}", f"--log-path={log}"],
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if self._call("GET", "/status")["ready"]:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                pytest.fail(f"chromedriver did not start; see {log}")
            time.sleep(0.1)
        capabilities = {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }
        session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
        self.session = f"/session/{session['sessionId']}"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            raise AssertionError(f"WebDriver {method} {path} failed: {detail[:500]}") from None

    def command(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, self.session + path, body)

    def get(self, url: str) -> None:
        self.command("POST", "/url", {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        return self.command("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css: str) -> str:
        found = self.command("POST", "/element", {"using": "css selector", "value": css})
        return str(found[ELEMENT])

    def displayed(self, element: str) -> bool:
        return bool(self.command("GET", f"/element/{element}/displayed"))

    def text(self, element: str) -> str:
        return str(self.command("GET", f"/element/{element}/text"))

    def click(self, element: str) -> None:
        self.command("POST", f"/element/{element}/click", {})

    def console(self) -> list[dict[str, Any]]:
        entries = self.command("POST", "/se/log", {"type": "browser"})
        return list(entries)

    def screenshot(self) -> bytes:
        return base64.b64decode(self.command("GET", "/screenshot"))

    def resize(self, width: int, height: int) -> None:
        self.command("POST", "/window/rect", {"width": width, "height": height})

    def viewport(self, width: int, height: int) -> None:
        """Make the page's viewport exactly `width` x `height` CSS pixels (a window's outer size
        is not its viewport), through the DevTools protocol chromedriver passes on."""
        self.command(
            "POST",
            "/goog/cdp/execute",
            {
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": {
                    "width": width,
                    "height": height,
                    "deviceScaleFactor": 1,
                    "mobile": False,
                },
            },
        )

    def reset_viewport(self) -> None:
        self.command(
            "POST",
            "/goog/cdp/execute",
            {"cmd": "Emulation.clearDeviceMetricsOverride", "params": {}},
        )

    def close(self) -> None:
        try:
            if hasattr(self, "session"):
                self._call("DELETE", self.session)
        except (AssertionError, urllib.error.URLError, OSError):
            pass
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.log_file.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    chromium, driver = _find_browser()
    folder = tmp_path_factory.mktemp("browser")
    with tempfile.TemporaryDirectory(prefix="leukorules-chromium-") as profile:
        web = WebDriver(chromium, driver, Path(profile), folder / "chromedriver.log")
        try:
            yield web
        finally:
            web.close()


def _load(browser: WebDriver, page: Path) -> list[dict[str, Any]]:
    browser.get(page.as_uri())
    deadline = time.monotonic() + 20
    while browser.run("return document.readyState") != "complete":
        assert time.monotonic() < deadline, "the page never finished loading"
        time.sleep(0.05)
    return browser.console()


def test_report_in_chromium(browser: WebDriver, tmp_path: Path, golden: Golden) -> None:
    policy = load_policy()
    raw, problems = load_facts_file(EXAMPLE)
    assert raw is not None, problems
    values, problems = policy.check_facts(raw)
    assert not problems
    ev = policy.evaluate(values, trace=True)
    page = tmp_path / "report.html"
    page.write_text(render_html(ev, policy.policy, values), encoding="utf-8")

    console = _load(browser, page)
    assert console == [], f"console messages: {console}"
    assert browser.run("return performance.getEntriesByType('resource').length") == 0
    assert browser.run("return document.scripts.length") == 0

    title = browser.find("h1")
    assert browser.displayed(title) and browser.text(title) == ev.policy.title
    first = ev.recommendations[0]
    action = browser.find(f'[id="rule-{first.rule}"] .action')
    assert browser.displayed(action) and browser.text(action) == first.action
    for rec in ev.recommendations:
        card = browser.find(f'[id="rule-{rec.rule}"]')
        assert browser.displayed(card)
        assert rec.statement in browser.text(card)
    diagram = browser.find("#chain svg")
    assert browser.displayed(diagram)
    box = browser.command("GET", f"/element/{diagram}/rect")
    assert box["width"] > 400 and box["height"] > 150
    applied = browser.find("#guideline .statement.applied")
    assert browser.displayed(applied)
    assert "applied" in browser.text(applied)
    footer = browser.find("#hashes")
    assert ev.facts_sha256 in browser.text(footer)

    trace_table = browser.find("details.trace table")
    assert not browser.displayed(trace_table)  # collapsed until asked for
    browser.click(browser.find("details.trace summary"))
    assert browser.displayed(trace_table)
    assert ev.trace is not None
    rows = browser.run("return document.querySelectorAll('details.trace tbody tr').length")
    assert rows == len(ev.trace)
    assert browser.console() == []

    browser.resize(1280, 2400)
    browser.run("window.scrollTo(0, 0); document.querySelector('details.trace').open = false")
    picture = browser.screenshot()
    assert picture.startswith(b"\x89PNG\r\n\x1a\n") and len(picture) > 20_000
    (tmp_path / "report.png").write_bytes(picture)
    if golden.updating:
        SCREENSHOT.write_bytes(picture)
    browser.resize(1280, 900)


def test_hostile_text_stays_text_in_chromium(browser: WebDriver, tmp_path: Path) -> None:
    attack = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"
    folder = tmp_path / "policy"
    folder.mkdir()
    (folder / "p.rules").write_text(
        f"""
policy evil {{ title "Evil" version "1" }}
evidence 1 {{ citation "{attack.replace('"', "'")}" }}
fact note: string
rule r.one {{
  statement "{attack.replace('"', "'")}"
  evidence 1
  when note is known
  recommend "{attack.replace('"', "'")}"
}}
""",
        encoding="utf-8",
    )
    policy = load_policy(folder)
    values = policy.validate({"note": attack})
    page = tmp_path / "evil.html"
    page.write_text(
        render_html(policy.evaluate(values, trace=True), policy.policy, values), encoding="utf-8"
    )
    assert _load(browser, page) == []
    assert browser.run("return document.title") == "Evil: decision report"
    assert browser.run("return document.querySelectorAll('img, script').length") == 0
    card = browser.find('[id="rule-r.one"] .action')
    assert browser.text(card) == attack.replace('"', "'")


def _report_page(tmp_path: Path, patient: Path) -> tuple[Path, Evaluation]:
    policy = load_policy()
    raw, problems = load_facts_file(patient)
    assert raw is not None, problems
    values, problems = policy.check_facts(raw)
    assert not problems
    ev = policy.evaluate(values, trace=True)
    page = tmp_path / f"{patient.stem}.html"
    page.write_text(render_html(ev, policy.policy, values), encoding="utf-8")
    return page, ev


def _png_size(picture: bytes) -> tuple[int, int]:
    assert picture.startswith(b"\x89PNG\r\n\x1a\n") and picture[12:16] == b"IHDR"
    return int.from_bytes(picture[16:20], "big"), int.from_bytes(picture[20:24], "big")


# Where each part of the page is, in CSS pixels from the top of the page, as the browser laid it
# out; `visible` is whether the part's box lies wholly inside the first screen.
LAYOUT = """
const fold = window.innerHeight;
const box = (el) => {
  const rect = el.getBoundingClientRect();
  return {top: rect.top + window.scrollY, bottom: rect.bottom + window.scrollY,
          width: rect.width, visible: rect.top >= 0 && rect.bottom <= fold && rect.width > 0};
};
const found = (css) => document.querySelector(css);
const parts = {};
for (const [name, css] of Object.entries(arguments[0])) {
  parts[name] = found(css) ? box(found(css)) : null;
}
const action = found('#recommendations .card.recommendation .action');
let onTop = null;
if (action) {
  const rect = action.getBoundingClientRect();
  const hit = document.elementFromPoint(rect.left + 2, rect.top + rect.height / 2);
  onTop = hit !== null && (hit === action || action.contains(hit));
}
return {fold: fold, width: window.innerWidth, scrollY: window.scrollY, parts: parts,
        actionOnTop: onTop};
"""
PARTS = {
    "recommendations": "#recommendations",
    "heading": "#recommendations h2",
    "first_card": "#recommendations .card.recommendation",
    "first_strength": "#recommendations .card.recommendation .badge.strength",
    "first_evidence": "#recommendations .card.recommendation .evidence",
    "notes": "#notes",
    "facts": "#facts",
    "chain": "#chain",
    "guideline": "#guideline",
    "trace": "#trace",
}


@pytest.mark.parametrize(
    "patient",
    [
        EXAMPLE,  # nine recommendations
        PATIENTS / "almost-nothing-known.yaml",  # two recommendations, 24 facts unknown
        PATIENTS / "medication-induced-pml.yaml",  # four notes and cautions
    ],
    ids=lambda p: p.stem,
)
def test_recommendations_are_above_the_fold(
    browser: WebDriver, tmp_path: Path, patient: Path
) -> None:
    page, ev = _report_page(tmp_path, patient)
    width, height = FIRST_SCREEN
    browser.viewport(width, height)
    try:
        assert _load(browser, page) == []
        browser.run("window.scrollTo(0, 0)")
        layout = browser.run(LAYOUT, PARTS)
        picture = browser.screenshot()
    finally:
        browser.reset_viewport()
    (tmp_path / f"{patient.stem}.first-screen.png").write_bytes(picture)  # for review
    assert _png_size(picture) == FIRST_SCREEN, "the screenshot is not the first screen"
    assert len(picture) > 20_000  # a drawn page, not a blank one
    assert (layout["width"], layout["fold"], layout["scrollY"]) == (width, height, 0)
    parts = layout["parts"]
    assert all(parts[name] is not None for name in PARTS), [n for n in PARTS if not parts[n]]

    # the first thing: the recommendations, the first one whole with its strength and evidence
    for name in ("heading", "first_card", "first_strength", "first_evidence"):
        assert parts[name]["visible"], (name, parts[name], height)
    assert layout["actionOnTop"], "the first recommendation is covered by something else"
    first = ev.recommendations[0]
    card = browser.find(f'[id="rule-{first.rule}"]')
    assert browser.text(card).startswith(first.action)
    assert parts["recommendations"]["top"] < height / 3, "the header pushes them down"
    # the workings follow, below the first screen and in this order
    tops = [parts[name]["top"] for name in ("recommendations", "notes", "facts", "chain")]
    tops += [parts[name]["top"] for name in ("guideline", "trace")]
    assert tops == sorted(tops), tops
    for name in ("facts", "chain", "trace"):
        assert parts[name]["top"] >= height, (name, parts[name]["top"], "is above the fold")
