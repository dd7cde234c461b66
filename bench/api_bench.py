"""Throughput and tail latency of the JSON API under wrk: /api/v2/studies with a typical query at pageSize 10 and
100, one study by id, and our own /api/search; 2 uvicorn workers on loopback. Run by hand:

    .venv/bin/trialfinder --data-dir /tmp/api-bench/data-100k ingest /tmp/trialfinder-corpus/corpus-100k.jsonl
    .venv/bin/python bench/api_bench.py --data-dir /tmp/api-bench/data-100k --corpus "corpus-100k.jsonl (100,000)"

Results go to bench/results/api.md (machine, commands, requests/s and p99 per scenario).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, VENV_BIN, machine_description  # noqa: E402


def build_app():
    """uvicorn --factory entry point: the real composition root over $TRIALFINDER_DATA."""
    from trialfinder.config import load_settings
    from trialfinder.server import create_app

    return create_app(load_settings())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/api/v2/version", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("server did not become ready")


def first_study_id(base: str, query: str) -> str:
    with urllib.request.urlopen(f"{base}/api/v2/studies?{query}&pageSize=1&fields=NCTId", timeout=30) as response:
        import json

        return json.load(response)["studies"][0]["protocolSection"]["identificationModule"]["nctId"]


def run_wrk(url: str, seconds: int, connections: int, threads: int) -> tuple[list[str], dict[str, str]]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = {
        "requests/s": _match(r"Requests/sec:\s+([\d.]+)", output),
        "p50": _match(r"^\s+50%\s+(\S+)", output),
        "p99": _match(r"^\s+99%\s+(\S+)", output),
        "non-2xx": _match(r"Non-2xx or 3xx responses:\s+(\d+)", output) or "0",
        "errors": _match(r"Socket errors:\s+(.*)$", output) or "none",
    }
    return command, found


def _match(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1) if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="a trialfinder data dir with an ingested corpus")
    parser.add_argument("--corpus", required=True, help="what the data dir holds, for the results file")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--query", default="query.cond=diabetes", help="the typical /api/v2/studies query")
    parser.add_argument("--results", default="api.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_command = [str(VENV_BIN / "uvicorn"), "--factory", "api_bench:build_app", "--host", "127.0.0.1",
                      "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
                      "--no-access-log"]
    env = dict(os.environ, TRIALFINDER_DATA=str(Path(args.data_dir).resolve()),
               PYTHONPATH=str(Path(__file__).resolve().parent))
    machine = machine_description()
    server = subprocess.Popen(server_command, env=env)
    try:
        wait_ready(base)
        nct_id = first_study_id(base, args.query)
        scenarios = {
            f"/api/v2/studies?{args.query}&pageSize=10": f"{base}/api/v2/studies?{args.query}&pageSize=10",
            f"/api/v2/studies?{args.query}&pageSize=100": f"{base}/api/v2/studies?{args.query}&pageSize=100",
            "/api/v2/studies/{nctId}": f"{base}/api/v2/studies/{nct_id}",
            "/api/studies/{nct_id} (ours, derived fields)": f"{base}/api/studies/{nct_id}",
            "/api/search?condition=diabetes&limit=10 (ours)": f"{base}/api/search?condition=diabetes&limit=10",
        }
        rows = []
        for label, url in scenarios.items():
            urllib.request.urlopen(url, timeout=60).read()  # warm caches before measuring
            command, found = run_wrk(url, args.seconds, args.connections, args.threads)
            rows.append((label, command, found))
            print(f"{label}: {found}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)

    lines = [
        "# API benchmark",
        "",
        f"Corpus: {args.corpus}, data dir `{args.data_dir}` (SQLite store + tantivy index).",
        "",
        f"Server: `{shlex.join(server_command)}` (real composition root, {args.workers} workers, loopback).",
        "",
        f"Load: wrk, {args.threads} threads, {args.connections} connections, {args.seconds} s per scenario, after "
        "one warm-up request; the same 2-core machine runs wrk and the server.",
        "",
        "| scenario | requests/s | p50 | p99 | non-2xx | socket errors |",
        "|---|---|---|---|---|---|",
    ]
    for label, _command, found in rows:
        lines.append(f"| `{label}` | {found['requests/s']} | {found['p50']} | {found['p99']} | {found['non-2xx']} "
                     f"| {found['errors']} |")
    lines += ["", "Commands:", ""] + [f"    {shlex.join(command)}" for _label, command, _found in rows]
    lines += ["", "Machine:", ""] + [f"- {key}: `{value}`" for key, value in machine.items()]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / args.results).write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS_DIR / args.results}")


if __name__ == "__main__":
    main()
