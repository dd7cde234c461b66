"""Website benchmark (run by hand): server time of the trial page and a typical search page, and the trial page's
requests/s under wrk with 2 uvicorn workers, all on loopback. Results go to bench/results/web.md.

    .venv/bin/python bench/web_bench.py --data-dir /tmp/api-bench/data-100k
    .venv/bin/python bench/web_bench.py --data-dir /tmp/wd --requests 300 --wrk-seconds 10

The data dir must hold an ingested store (its search index is built on first open if missing, or rebuilt when it
was built under another index schema version: at 600,000 studies that takes about 20 minutes). For CPU time per
request without a server or the network, see bench/web_profile.py.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import VENV_BIN, ResultTable, load_average, machine_markdown, write_result  # noqa: E402
from search_bench import make_queries  # noqa: E402

from trialfinder.config import load_settings  # noqa: E402
from trialfinder.store import Store  # noqa: E402

SEARCH_PATH = "/search?q=diabetes&loc=Boston%2C+MA&radius=100mi&status=recruiting"
SEARCH_PLAIN_PATH = "/search?q=cancer&status=all"


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, workers: int) -> tuple[subprocess.Popen, str, list[str]]:
    """`uvicorn trialfinder.server:create_app --factory` over the data dir; returns process, base URL, command."""
    port = free_port()
    command = [str(VENV_BIN / "uvicorn"), "trialfinder.server:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    env = {**os.environ, "TRIALFINDER_DATA": str(data_dir)}
    env.pop("TRIALFINDER_DATABASE_URL", None)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/", timeout=5).status_code == 200:
                return process, base, command
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode(errors="replace") if process.stderr else "server died")
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError("server did not start in time")


def stop(process: subprocess.Popen) -> None:
    """Stop a server started here."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def sample_ids(data_dir: Path, count: int) -> list[str]:
    """NCT ids with sites, spread over the store (SQLite stores only)."""
    with sqlite3.connect(f"file:{data_dir / 'trialfinder.sqlite3'}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT DISTINCT nct_id FROM sites ORDER BY nct_id").fetchall()
    step = max(1, len(rows) // count)
    return [row[0] for row in rows[::step]][:count]


def latencies(base: str, paths: list[str], requests: int, warmup: list[str] | None = None,
              headers: dict[str, str] | None = None) -> list[float]:
    """Milliseconds per sequential request (keep-alive, one at a time) cycling over the paths, after a warm-up
    (first-use caches, index readers) on warmup, by default the first three paths."""
    timings = []
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        for path in paths[:3] if warmup is None else warmup:
            client.get(path)
        for index in range(requests):
            started = time.perf_counter()
            response = client.get(paths[index % len(paths)])
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{paths[index % len(paths)]}: HTTP {response.status_code}")
    return timings


def typical_search_paths(data_dir: Path, count: int, seed: int) -> list[str]:
    """Up to count distinct search pages (repeats dropped) as people ask for them: the search benchmark's query mix (conditions of random
    studies; a quarter near one of 20 cities, a quarter with an age) under the home page's default status filter,
    recruiting. Each URL is asked once, so nothing is answered from a cache of the same request."""
    store = Store.open(load_settings(data_dir=data_dir).database_url, migrate=False)
    paths = []
    for query in make_queries(store, count, seed):
        params = {"status": "recruiting"}
        if query["kind"] == "condition+distance":
            params |= {"cond": query["text"], "loc": query["place"]}
        else:
            params["q"] = query["text"]
        if "age" in query:
            params["age"] = str(query["age"])
        paths.append("/search?" + urlencode(params))
    return list(dict.fromkeys(paths))


def map_sources(base: str, paths: list[str]) -> list[str]:
    """The results-map URLs (`/search/sites.json?...`) that these search pages' map script fetches."""
    sources = []
    with httpx.Client(base_url=base, timeout=120) as client:
        for path in paths:
            found = re.search(r"data-map='([^']*)'", client.get(path).text)
            if found:
                sources.append(json.loads(html.unescape(found.group(1)))["source"])
    return sources


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the sorted values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency_figures(timings: list[float]) -> tuple[int, str, str, str]:
    """(requests, p50, p95, max) of a latency row."""
    return (len(timings), f"{statistics.median(timings):.1f} ms", f"{percentile(timings, .95):.1f} ms",
            f"{max(timings):.1f} ms")


def server_cpu_seconds(process: subprocess.Popen) -> float:
    """CPU seconds (user + system) used so far by the server and its worker processes, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [process.pid, *(int(p) for p in Path(f"/proc/{process.pid}/task/{process.pid}/children")
                           .read_text().split())]
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def run_wrk(url: str, seconds: int, server: subprocess.Popen) -> tuple[str, dict[str, str]]:
    """wrk -t2 -c32 against one URL; its command line and parsed figures, with the server's CPU per request (the
    figure that moves least with the load others put on a shared machine)."""
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", url]
    cpu_before = server_cpu_seconds(server)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu = server_cpu_seconds(server) - cpu_before
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    figures = {
        "server CPU/request": f"{cpu / max(1, requests) * 1000:.2f} ms",
        "requests/s": re.search(r"Requests/sec:\s+([\d.]+)", output).group(1),
        "p50": re.search(r"50%\s+([\d.]+\w+)", output).group(1),
        "p99": re.search(r"99%\s+([\d.]+\w+)", output).group(1),
        "non-2xx": (re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output) or [None, "0"])[1],
        "errors": (re.search(r"Socket errors:.*", output) or ["none"])[0],
    }
    return " ".join(command), figures


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=300, help="sequential requests per page kind")
    parser.add_argument("--wrk-seconds", type=int, default=15)
    parser.add_argument("--corpus", default="", help="how the data dir was made, for the report")
    parser.add_argument("--seed", type=int, default=7, help="seed of the typical-search mix")
    args = parser.parse_args()

    ids = sample_ids(args.data_dir, 200)
    typical = typical_search_paths(args.data_dir, args.requests + 3, args.seed)
    typical_warmup, typical = typical[:3], typical[3:]
    with sqlite3.connect(f"file:{args.data_dir / 'trialfinder.sqlite3'}?mode=ro", uri=True) as conn:
        studies, sites = (conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("studies", "sites"))

    process, base, one_worker = start_server(args.data_dir, workers=1)
    try:
        table = ResultTable(["page", "requests", "p50", "p95", "max"])
        rows = [  # (row name, paths, requests, warm-up paths, request headers)
            ("trial page `/study/{id}` (200 ids)", [f"/study/{i}" for i in ids], args.requests, None, None),
            (f"typical search pages ({len(typical)} distinct, each asked once; see `typical_search_paths`)",
             typical, len(typical), typical_warmup, None),
            (f"search near a place `{SEARCH_PATH}`", [SEARCH_PATH], args.requests, None, None),
            (f"search without a place `{SEARCH_PLAIN_PATH}`", [SEARCH_PLAIN_PATH], args.requests, None, None),
            ("search, htmx fragment (the near-a-place query, HX-Request)", [SEARCH_PATH], args.requests, None,
             {"HX-Request": "true"}),
        ]
        for name, paths, requests, warmup, headers in rows:
            table.add(name, *latency_figures(latencies(base, paths, requests, warmup, headers)))
        # Read the map URLs off the typical pages only after those were timed: fetching them first would have
        # asked every typical page twice, warming what the once-only row is meant to measure cold.
        map_urls = map_sources(base, typical)
        table.add(f"results map sites `/search/sites.json` ({len(map_urls)}, those of the typical pages, each asked "
                  "once: the map script fetches them after the page)",
                  *latency_figures(latencies(base, map_urls, len(map_urls), [])))
    finally:
        stop(process)

    process, base, two_workers = start_server(args.data_dir, workers=2)
    try:
        # each worker loads the gazetteer and the index's site arrays on its first search: warm both up first
        for _ in range(8):
            httpx.get(f"{base}/study/{ids[0]}", timeout=120)
            httpx.get(base + SEARCH_PATH, timeout=120)
        wrk_table = ResultTable(["URL", "requests/s", "server CPU/request", "p50", "p99", "non-2xx", "socket errors"])
        commands = []
        for path in (f"/study/{ids[0]}", SEARCH_PATH):
            command, figures = run_wrk(base + path, args.wrk_seconds, process)
            commands.append(command)
            wrk_table.add(f"`{path}`", figures["requests/s"], figures["server CPU/request"], figures["p50"],
                          figures["p99"], figures["non-2xx"], figures["errors"])
    finally:
        stop(process)

    corpus = args.corpus or f"data dir `{args.data_dir}`"
    path = write_result("web", [
        ("Corpus", f"{corpus}: {studies:,} studies, {sites:,} sites (SQLite store + tantivy index)."),
        ("Server time, one worker, sequential requests over loopback (keep-alive)",
         f"Server: `{' '.join(one_worker)}`\n\n{table.markdown()}"),
        ("Throughput, 2 workers, wrk on the same machine",
         f"Server: `{' '.join(two_workers)}`\n\n{wrk_table.markdown()}\n\nCommands:\n\n"
         + "\n".join(f"    {c}" for c in commands)),
        ("Machine", machine_markdown() + f"\n- load average at the end: `{load_average()}`"),
    ], title="Website benchmark", keep_earlier=True)
    print(path.read_text())


if __name__ == "__main__":
    main()
