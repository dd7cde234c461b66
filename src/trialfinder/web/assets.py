"""Copy the front-end libraries that npm installed (node_modules) into the git-ignored static/vendor folder.

Run by `make install` after `npm ci`: `python -m trialfinder.web.assets [--node-modules PATH]`.
Only the files the pages load are copied, never the whole packages.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

VENDOR_DIR = Path(__file__).with_name("static") / "vendor"
REPO_ROOT = Path(__file__).resolve().parents[3]

# (package folder in node_modules, file or folder inside it, destination inside static/vendor)
COPIES: list[tuple[str, str, str]] = [
    ("htmx.org", "dist/htmx.min.js", "htmx/htmx.min.js"),
    ("leaflet", "dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet", "dist/leaflet.css", "leaflet/leaflet.css"),
    # leaflet.css points at images/ next to itself
    ("leaflet", "dist/images", "leaflet/images"),
    ("leaflet.markercluster", "dist/leaflet.markercluster.js", "leaflet.markercluster/leaflet.markercluster.js"),
    ("leaflet.markercluster", "dist/MarkerCluster.css", "leaflet.markercluster/MarkerCluster.css"),
    ("leaflet.markercluster", "dist/MarkerCluster.Default.css", "leaflet.markercluster/MarkerCluster.Default.css"),
    ("swagger-ui-dist", "swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"),
    ("swagger-ui-dist", "swagger-ui-standalone-preset.js", "swagger-ui/swagger-ui-standalone-preset.js"),
    ("swagger-ui-dist", "swagger-ui.css", "swagger-ui/swagger-ui.css"),
    ("swagger-ui-dist", "favicon-32x32.png", "swagger-ui/favicon-32x32.png"),
    ("swagger-ui-dist", "oauth2-redirect.html", "swagger-ui/oauth2-redirect.html"),
]
LICENSE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt")


def copy_assets(node_modules: Path, vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Copy every file in COPIES (plus each package's licence) and return the destinations."""
    missing = [f"{package}/{source}" for package, source, _ in COPIES if not (node_modules / package / source).exists()]
    if missing:
        raise FileNotFoundError(f"not in {node_modules}: {', '.join(missing)} (run `npm ci` first)")
    if vendor_dir.exists():
        shutil.rmtree(vendor_dir)
    written: list[Path] = []
    for package, source, destination in COPIES:
        origin, target = node_modules / package / source, vendor_dir / destination
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target)
        else:
            shutil.copy2(origin, target)
        written.append(target)
    # each package's licence travels with its files
    folders = {package: destination.split("/")[0] for package, _, destination in COPIES}
    for package, folder in folders.items():
        licence = next((node_modules / package / n for n in LICENSE_NAMES if (node_modules / package / n).exists()), None)
        if licence is not None:
            shutil.copy2(licence, vendor_dir / folder / f"LICENSE-{package}")
    return written


def vendor_ready(vendor_dir: Path = VENDOR_DIR) -> bool:
    """True when every vendored file is in place."""
    return all((vendor_dir / destination).exists() for _, _, destination in COPIES)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=REPO_ROOT / "node_modules")
    args = parser.parse_args(argv)
    try:
        written = copy_assets(args.node_modules)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"copied {len(written)} front-end assets into {VENDOR_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
