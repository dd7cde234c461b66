"""Screenshots of the website for docs/screenshots/: home, a results page and a trial page, desktop and phone.

Usage: .venv/bin/python bench/screenshots.py [--base-url http://127.0.0.1:8000] [--out docs/screenshots]
Needs a running server (`trialfinder serve`) and Debian's chromium; every non-loopback request is blocked, so
map tiles stay blank (the markers and clusters still draw).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PAGES = {
    "home": "/",
    "results": "/search?q=cancer&loc=Boston%2C+MA&radius=250mi&status=all&per_page=10",
    "trial": "/study/NCT06111846",
}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def block_outside(route: Route) -> None:
    """Let loopback requests through and abort everything else (map tiles, anything unexpected)."""
    host = urlsplit(route.request.url).hostname or ""
    if host in LOOPBACK:
        route.continue_()
    else:
        route.abort()


def take(base_url: str, out: Path, pages: dict[str, str] = PAGES) -> list[Path]:
    """Save one full-page PNG per page and viewport; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for viewport_name, viewport in VIEWPORTS.items():
                page = browser.new_page()
                page.set_viewport_size(viewport)
                page.route("**/*", block_outside)
                for name, path in pages.items():
                    page.goto(base_url.rstrip("/") + path, wait_until="networkidle")
                    target = out / f"{name}-{viewport_name}.png"
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
                page.close()
        finally:
            browser.close()
    return written


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "screenshots")
    args = parser.parse_args()
    for path in take(args.base_url, args.out):
        print(path)


if __name__ == "__main__":
    main()
