"""The website in Debian's chromium (Playwright), against a real uvicorn server on a loopback port: search,
narrow by status and place, open a trial, browse locations, keyboard use, and axe-core's accessibility checks."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import REPO_ROOT, require
from test_web_fixtures import REFERENCE_ID, web_data_dir, web_services  # noqa: F401

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

# The results page shows how many results each status choice gives after its name ("Completed 982").
COMPLETED_CHOICE = re.compile(r"^Completed( [\d,]+)?$")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(web_data_dir: Path, web_services) -> str:  # web_services: the index is built before the server starts
    """A uvicorn server over the test store, on a free loopback port; its base URL."""
    port = _free_port()
    env = {**os.environ, "TRIALFINDER_DATA": str(web_data_dir)}
    env.pop("TRIALFINDER_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "trialfinder.server:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                pytest.fail(f"server did not start: {output[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium (never a Playwright-downloaded browser); launch() gives it a fresh temporary profile."""
    require(Path(CHROMIUM).exists(), f"{CHROMIUM} missing: apt-get install -y --no-install-recommends chromium")
    require((REPO_ROOT / "src/trialfinder/web/static/vendor/htmx/htmx.min.js").exists(),
            "front-end assets missing: npm ci && python -m trialfinder.web.assets")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def _block_outside(request_route) -> None:
    host = urlsplit(request_route.request.url).hostname or ""
    if host in LOOPBACK:
        request_route.continue_()
    else:
        request_route.abort()


@pytest.fixture
def page(browser):
    """A tab whose non-loopback requests are all aborted; CSP and script errors are collected on page.problems."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.route("**/*", _block_outside)
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("console", lambda message: problems.append(message.text)
           if message.type == "error" and "Content Security Policy" in message.text else None)
    tab.problems = problems
    yield tab
    context.close()


def _axe_violations(page) -> list[dict]:
    require(AXE.exists(), f"{AXE} missing: run npm ci")
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated through the driver, so the page's CSP allows it
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


def test_search_narrow_open_trial_and_read_criteria(page, server):
    page.goto(server + "/")
    page.get_by_label("Condition, disease or keyword").fill("cancer")
    page.get_by_label("Any status").check()
    page.get_by_role("button", name="Search trials").click()
    page.wait_for_url(re.compile(r"/search\?"))
    heading = page.locator("#results-heading")
    assert re.search(r"\d+ trials?", heading.inner_text())
    all_count = int(re.search(r"([\d,]+)", heading.inner_text()).group(1).replace(",", ""))

    # narrowing by status swaps the results in place (htmx) and updates the address
    page.get_by_label(COMPLETED_CHOICE).check()
    page.wait_for_url(re.compile(r"status=completed"))
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    badges = page.locator(".card .badge-closed, .card .badge-open").all_inner_texts()
    assert badges and set(badges) == {"Completed"}
    completed_count = int(re.search(r"([\d,]+)", heading.inner_text()).group(1).replace(",", ""))
    assert completed_count < all_count

    # narrowing by a place
    page.get_by_label("Location").fill("Boston, MA")
    page.get_by_label("Distance").select_option("250mi")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"loc=Boston"))
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    assert "within 250 miles of Boston" in heading.inner_text()
    assert page.locator(".card .distance").count() > 0
    page.wait_for_selector(".map.map-ready .leaflet-marker-icon, .map.map-ready .marker-cluster")

    # open the first trial and read its inclusion criteria
    page.locator(".card-title a").first.click()
    page.wait_for_url(re.compile(r"/study/NCT\d{8}$"))
    items = page.locator(".criteria-inclusion li")
    assert items.count() > 0 and items.first.inner_text().strip()
    assert page.problems == []


def test_reference_trial_page_map_and_criteria(page, server):
    page.goto(f"{server}/study/{REFERENCE_ID}")
    assert page.locator("h1").inner_text() == "Study of Human Bone Marrow Mesenchymal Stem Cells in APAP"
    assert page.locator(".criteria-inclusion li").count() == 6
    assert page.locator(".criteria-exclusion li").count() == 11
    page.wait_for_selector(".map.map-ready .leaflet-marker-icon")
    assert page.problems == []


def test_browse_country_state_city(page, server):
    page.goto(server + "/locations")
    page.get_by_role("link", name="United States", exact=True).click()
    page.wait_for_url(server + "/locations/united-states")
    page.get_by_role("link", name="Massachusetts", exact=True).click()
    page.get_by_role("link", name="Boston", exact=True).click()
    page.wait_for_url(server + "/locations/united-states/massachusetts/boston")
    assert page.locator("h1").inner_text() == "Clinical trials in Boston"
    page.get_by_label("Status", exact=True).select_option("recruiting")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"status=recruiting"))
    assert page.locator(".card").count() > 0
    assert page.problems == []


def test_keyboard_reaches_skip_link_then_search(page, server):
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused in ("home-q", "home-loc")


@pytest.mark.parametrize("path", [
    "/", "/search?q=cancer&loc=Boston%2C+MA&radius=250mi&status=all", f"/study/{REFERENCE_ID}",
    "/study/NCT05923281", "/locations", "/locations/united-states/massachusetts/boston", "/study/NCT99999999",
    "/search?loc=Bostn%2C+Massachusets",
])
@pytest.mark.parametrize("width", [1280, 390])
def test_no_serious_accessibility_violations(page, server, path, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(server + path, wait_until="networkidle")
    assert _axe_violations(page) == []
    assert page.problems == []


def test_phone_width_has_no_horizontal_scroll(page, server):
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/", "/search?q=cancer&status=all", f"/study/{REFERENCE_ID}", "/study/NCT05923281"):
        page.goto(server + path, wait_until="networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, path


def test_search_works_without_javascript(browser, server):
    """With scripting off the filters are a plain GET form with its own submit button, and no map is drawn."""
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.route("**/*", _block_outside)
    try:
        tab.goto(server + "/search?q=cancer&status=all")
        tab.get_by_label(COMPLETED_CHOICE).check()
        tab.get_by_role("button", name="Apply filters").click()
        tab.wait_for_url(re.compile(r"status=completed"))
        assert set(tab.locator(".card .badge-closed, .card .badge-open").all_inner_texts()) == {"Completed"}
        assert not tab.locator(".map").first.is_visible()
    finally:
        context.close()
