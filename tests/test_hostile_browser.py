"""XSS payloads in every text field of a study and in every query parameter never run, in a real browser.

A real `trialfinder serve` process serves a store holding a study whose every free-text value carries a payload;
Debian's chromium (through Playwright) opens its pages and search pages with payloads in each parameter. Proof
that no script ran: no dialog opened, `window.__xss` stayed unset, the console reported no blocked inline script
(so the escaping, not only the CSP, stopped it), and no request left loopback (an injected tag would fetch).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlparse

import httpx
import pytest
from conftest import require

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
HOSTILE_ID = "NCT09990001"
PAYLOADS = [
    "<script>window.__xss=1;alert('script')</script>",
    '<img src=x onerror="window.__xss=1;alert(\'img\')">',
    '"><svg onload="window.__xss=1;alert(\'svg\')">',
    "'><iframe srcdoc=\"<script>parent.__xss=1</script>\">",
    "</script><script>window.__xss=1;alert('break-out')</script>",
    '<a href="javascript:window.__xss=1;alert(\'link\')">click</a>',
    '<img src="https://evil.example/beacon.png">',
    "{{7*7}}${7*7}<%= 7*7 %>",
    "javascript:window.__xss=1//",
]
SEARCH_PARAMETERS = ["q", "cond", "intr", "loc", "radius", "age", "sex", "hv", "status", "results", "country",
                     "sort", "page", "per_page", "phase", "type", "funder", "age_group"]
# Values the model checks (enums, dates, ids) stay as they are: a record with a bad enum is rejected at ingest,
# which is a different (tested) path. Everything else is free text a registry submitter controls.
_KEEP = re.compile(r"^(?:[A-Z][A-Z0-9_]*|\d{4}(?:-\d{2}){0,2}|NCT\d{8}|\d+(?:\.\d+)?)$")


def poisoned(value, counter: list[int]):
    """A copy of a v2 record with a payload appended to every free-text string."""
    if isinstance(value, dict):
        return {key: poisoned(item, counter) for key, item in value.items()}
    if isinstance(value, list):
        return [poisoned(item, counter) for item in value]
    if isinstance(value, str) and not _KEEP.match(value):
        counter[0] += 1
        return f"{value} {PAYLOADS[counter[0] % len(PAYLOADS)]}"
    return value


def hostile_study(template: dict) -> tuple[dict, int]:
    counter = [0]
    study = poisoned(template, counter)
    protocol = study["protocolSection"]
    protocol["identificationModule"]["nctId"] = HOSTILE_ID
    protocol["statusModule"]["overallStatus"] = "RECRUITING"
    protocol.setdefault("contactsLocationsModule", {})["locations"] = [{
        "facility": f"Clinic {PAYLOADS[1]}", "city": f"Springfield {PAYLOADS[0]}", "state": f"Ohio {PAYLOADS[2]}",
        "country": "United States", "status": "RECRUITING", "geoPoint": {"lat": 39.92, "lon": -83.81},
        "contacts": [{"name": PAYLOADS[4], "email": 'a@b.c" onclick="alert(1)', "phone": PAYLOADS[5]}]}]
    return study, counter[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def hostile_site(shared_data: Path, tmp_path_factory):
    """A `trialfinder serve` over the shared studies plus the poisoned one; yields its base URL."""
    require(Path(CHROMIUM).exists() and shutil.which("chromium") is not None, "Debian chromium is not installed")
    from fake_ctgov import load_v2_studies

    directory = tmp_path_factory.mktemp("xss")
    template = next(s for s in load_v2_studies(shared_data / "ctgov" / "v2_json")
                    if s["protocolSection"].get("eligibilityModule", {}).get("eligibilityCriteria")
                    and s["protocolSection"].get("armsInterventionsModule"))
    study, fields = hostile_study(template)
    assert fields > 30, "the template record has plenty of text fields"
    records = directory / "hostile.json"
    records.write_text(json.dumps([study]))
    command = [sys.executable, "-m", "trialfinder", "--data-dir", str(directory / "data")]
    ingested = subprocess.run([*command, "ingest", str(shared_data / "ctgov" / "v2_json" /
                                                       "dgg32_clinical-trials-public"), str(records)],
                              capture_output=True, text=True, timeout=300, check=False)
    loaded = subprocess.run([*command, "show", HOSTILE_ID], capture_output=True, text=True, check=False)
    assert loaded.returncode == 0, ingested.stderr[-2000:]
    port = free_port()
    # Map tiles from a loopback port nobody listens on: they fail at once, and any request leaving loopback is
    # then something injected.
    env = os.environ | {"TRIALFINDER_TILE_URL": f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png"}
    log = directory / "serve.log"  # a file, not a pipe: a full pipe would block the server's logging
    server = subprocess.Popen([*command, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=log.open("wb"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        server.kill()
        raise AssertionError(log.read_text()[-3000:])
    yield base
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    require(Path(CHROMIUM).exists() and shutil.which("chromium") is not None, "Debian chromium is not installed")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


class Evidence:
    """What a page did that only a script (or an injected tag) could have done."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.outside_requests: list[str] = []
        self.page_errors: list[str] = []


class Visitor:
    """One browser tab that records, per visit, dialogs, console messages, page errors and outside requests."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.evidence = Evidence()
        self.page.route("**/*", self._route)
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda message: self.evidence.console.append(f"{message.type}: {message.text}"))
        self.page.on("pageerror", lambda error: self.evidence.page_errors.append(str(error)))

    def _route(self, request_route) -> None:
        if urlparse(request_route.request.url).hostname in ("127.0.0.1", "localhost"):
            request_route.continue_()
        else:
            self.evidence.outside_requests.append(request_route.request.url)
            request_route.abort()

    def _dialog(self, dialog) -> None:
        self.evidence.dialogs.append(dialog.message)
        dialog.dismiss()

    def visit(self, url: str) -> Evidence:
        """Load url and let it settle; what it did."""
        self.evidence = Evidence()
        response = self.page.goto(url, wait_until="load")
        assert response is not None and response.status < 500, f"{url} -> {response and response.status}"
        self.page.wait_for_timeout(100)  # let onload handlers and deferred scripts run, if any were injected
        assert self.page.evaluate("() => window.__xss === undefined"), f"{url}: an injected script set window.__xss"
        return self.evidence

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitor(browser):
    opened = Visitor(browser)
    yield opened
    opened.close()


def assert_no_script_ran(evidence: Evidence, url: str) -> None:
    assert evidence.dialogs == [], f"{url}: a dialog opened: {evidence.dialogs}"
    blocked = [line for line in evidence.console
               if re.search(r"Content Security Policy|Refused to (execute|load)|inline", line, re.IGNORECASE)]
    assert blocked == [], f"{url}: markup was injected (the CSP had to stop it): {blocked}"
    assert evidence.outside_requests == [], f"{url}: an injected tag fetched {evidence.outside_requests}"
    assert evidence.page_errors == [], f"{url}: {evidence.page_errors}"


def test_payloads_in_every_field_of_a_study_never_run(visitor, hostile_site):
    pages = [f"/study/{HOSTILE_ID}", "/search?" + urlencode({"q": HOSTILE_ID}),
             "/search?" + urlencode({"q": "Springfield", "status": "all"}),
             "/locations/United%20States", "/locations/United%20States/" + quote(f"Ohio {PAYLOADS[2]}", safe=""),
             "/locations/United%20States/" + quote(f"Ohio {PAYLOADS[2]}", safe="") + "/"
             + quote(f"Springfield {PAYLOADS[0]}", safe=""), "/"]
    for path in pages:
        assert_no_script_ran(visitor.visit(hostile_site + path), path)


def test_payloads_in_every_query_parameter_never_run(visitor, hostile_site):
    for parameter in SEARCH_PARAMETERS:
        for payload in PAYLOADS if parameter == "q" else PAYLOADS[:3]:
            path = "/search?" + urlencode({parameter: payload})
            assert_no_script_ran(visitor.visit(hostile_site + path), path)
    for path in ["/study/" + quote(PAYLOADS[0], safe=""), "/locations/" + quote(PAYLOADS[1], safe=""),
                 "/search?" + urlencode({"q": PAYLOADS[0], "loc": PAYLOADS[1], "page": PAYLOADS[2]}),
                 "/" + quote(PAYLOADS[2], safe="")]:
        assert_no_script_ran(visitor.visit(hostile_site + path), path)
