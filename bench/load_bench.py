"""Steady load on a real `trialfinder serve --workers 2`: a mix of home, search, trial page and API requests at a
fixed rate for a fixed time, with throughput, p50/p99 latency, errors and server RSS over time.

    .venv/bin/python bench/load_bench.py --data-dir /tmp/tf-load/data --duration 600 --rate 40

wrk (Debian package `wrk`) drives the load in one-minute segments so latency can be read over time; its Lua
`delay()` paces each connection, so the offered rate stays fixed instead of wrk's usual flat-out closed loop.
The server's resident memory (master and workers) is sampled every few seconds from /proc. Results go to
bench/results/load_bench.md, .json and .png (matplotlib).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, load_average, machine_markdown, python_executable

SEARCH_TERMS = ["breast cancer", "asthma", "diabetes", "covid-19", "depression", "heart failure", "melanoma",
                "hypertension", "obesity", "stroke", "leukemia", "alzheimer", "pain", "hiv", "lung cancer",
                "rheumatoid arthritis", "pregnancy", "kidney disease", "sleep", "vaccine"]
PLACES = ["Boston, MA", "10001", "Chicago, IL", "Houston, TX", "Seattle, WA"]
# Share of each kind of request in the mix (what a public site with an API sees: mostly pages, some API).
MIX = {"home": 10, "web_search": 25, "trial_page": 25, "api_search": 20, "api_study": 10, "api_v2_studies": 10}

WRK_SCRIPT = """
local paths = {%(paths)s}
local counter = 0
local pause_ms = %(pause_ms)d

function init(args)
  counter = math.random(#paths)
end

function request()
  counter = counter %% #paths + 1
  return wrk.format("GET", paths[counter])
end

function delay()
  return pause_ms
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format('WRK-RESULT {"requests": %%d, "duration_us": %%d, "bytes": %%d, ' ..
    '"connect_errors": %%d, "read_errors": %%d, "write_errors": %%d, "status_errors": %%d, "timeouts": %%d, ' ..
    '"p50_ms": %%.2f, "p90_ms": %%.2f, "p99_ms": %%.2f, "max_ms": %%.2f, "mean_ms": %%.2f}\\n',
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read, errors.write, errors.status,
    errors.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
"""


@dataclass
class Segment:
    """One wrk run: when it started (seconds into the run) and what wrk measured."""

    started_s: float
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    detail: dict = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sample_ids(data_dir: Path, count: int, seed: int) -> list[str]:
    """count NCT ids spread over the store (rowid sampling: no full-table sort on 600k rows)."""
    with sqlite3.connect(f"file:{data_dir / 'trialfinder.sqlite3'}?mode=ro", uri=True) as db:
        highest = db.execute("SELECT max(rowid) FROM studies").fetchone()[0]
        rng = random.Random(seed)
        ids: list[str] = []
        while len(ids) < count:
            rowids = ",".join(str(rng.randint(1, highest)) for _ in range(200))
            rows = db.execute(f"SELECT nct_id FROM studies WHERE rowid IN ({rowids})").fetchall()
            ids += [row[0] for row in rows]
        return ids[:count]


def request_mix(ids: list[str], total: int, seed: int) -> list[str]:
    """total request paths in MIX proportions, shuffled."""
    rng = random.Random(seed)
    makers = {
        "home": lambda: "/",
        "web_search": lambda: "/search?" + urlencode(
            {"q": rng.choice(SEARCH_TERMS)} | ({"loc": rng.choice(PLACES)} if rng.random() < 0.3 else {})),
        "trial_page": lambda: f"/study/{rng.choice(ids)}",
        "api_search": lambda: "/api/search?" + urlencode({"q": rng.choice(SEARCH_TERMS), "limit": 20}),
        "api_study": lambda: f"/api/studies/{rng.choice(ids)}",
        "api_v2_studies": lambda: "/api/v2/studies?" + urlencode({"query.cond": rng.choice(SEARCH_TERMS),
                                                                  "pageSize": 10}),
    }
    weights = list(MIX.values())
    kinds = rng.choices(list(MIX), weights=weights, k=total)
    return [makers[kind]() for kind in kinds]


def process_tree_rss_mib(root_pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total_kib, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
        except OSError:
            continue
        total_kib += int(match.group(1)) if match else 0
    return total_kib / 1024


class RssSampler(threading.Thread):
    """Samples the server's RSS every `every` seconds until stopped."""

    def __init__(self, pid: int, every: float, started: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.started = pid, every, started
        self.samples: list[tuple[float, float]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.samples.append((time.monotonic() - self.started, process_tree_rss_mib(self.pid)))
            self.stopped.wait(self.every)


def run_segment(url: str, script: Path, seconds: int, connections: int, threads: int) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False).stdout
    line = next((line for line in output.splitlines() if line.startswith("WRK-RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    return json.loads(line[len("WRK-RESULT "):])


def wait_ready(base: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{base} did not become ready in {seconds:.0f} s")


def check_paths(base: str, paths: list[str]) -> dict[str, int]:
    """Status counts of one pass over a sample of the paths (wrk counts only >= 400 as errors)."""
    statuses: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for path in paths:
            code = str(client.get(path).status_code)
            statuses[code] = statuses.get(code, 0) + 1
    return statuses


def plot(segments: list[Segment], rss: list[tuple[float, float]], output: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [(s.started_s + s.duration_s / 2) / 60 for s in segments]
    figure, (throughput, latency, memory) = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    throughput.plot(minutes, [s.rps for s in segments], marker="o")
    throughput.set_ylabel("requests/s")
    throughput.set_ylim(bottom=0)
    latency.plot(minutes, [s.p50_ms for s in segments], marker="o", label="p50")
    latency.plot(minutes, [s.p99_ms for s in segments], marker="o", label="p99")
    latency.set_ylabel("latency (ms)")
    latency.set_ylim(bottom=0)
    latency.legend()
    memory.plot([t / 60 for t, _ in rss], [m for _, m in rss])
    memory.set_ylabel("server RSS (MiB)")
    memory.set_xlabel("minutes")
    memory.set_ylim(bottom=0)
    for axis in (throughput, latency, memory):
        axis.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(output, dpi=100)


def write_report(args, segments: list[Segment], rss: list[tuple[float, float]], statuses: dict[str, int],
                 studies: int, load_before: str, load_after: str) -> Path:
    total = sum(s.requests for s in segments)
    errors = sum(s.errors for s in segments)
    seconds = sum(s.duration_s for s in segments)
    rss_values = [m for _, m in rss]
    first, last = rss_values[: max(1, len(rss_values) // 10)], rss_values[-max(1, len(rss_values) // 10):]
    rows = "\n".join(
        f"| {s.started_s / 60:.1f} | {s.requests:,} | {s.rps:.1f} | {s.p50_ms:.1f} | {s.p90_ms:.1f} | {s.p99_ms:.1f} "
        f"| {s.max_ms:.0f} | {s.errors} | {_rss_at(rss, s.started_s + s.duration_s):.0f} |" for s in segments)
    text = f"""# Load: steady mixed traffic on `trialfinder serve --workers {args.workers}`

{machine_markdown()}

Store: SQLite, {studies:,} studies ({args.data_dir}); search index built from it. Load average before the run:
{load_before}; after: {load_after}. The machine is shared with other engineers' test runs, so latency is noisy.

Command: `.venv/bin/python bench/load_bench.py --data-dir {args.data_dir} --duration {args.duration} --rate {args.rate}
--connections {args.connections} --workers {args.workers}`

Mix (share of requests): {", ".join(f"{kind} {share}%" for kind, share in MIX.items())}; {len(args.paths):,} distinct
paths (random trial ids, 20 search terms, 30% of website searches near a place). wrk paces each of its
{args.connections} connections to offer about {args.rate} requests/s in all; segments of {args.segment} s.

## Summary

| | |
|---|---|
| requests | {total:,} in {seconds:.0f} s |
| throughput | {total / seconds:.1f} requests/s (offered ≈ {args.rate}) |
| errors (HTTP ≥ 400, socket errors, timeouts) | {errors} |
| p50 / p99 over segments (median of segment values) | {_median([s.p50_ms for s in segments]):.1f} ms / {_median([s.p99_ms for s in segments]):.1f} ms |
| worst segment p99 | {max(s.p99_ms for s in segments):.1f} ms |
| server RSS (master + {args.workers} workers) | first 10%: {_median(first):.0f} MiB, last 10%: {_median(last):.0f} MiB, max {max(rss_values):.0f} MiB |
| status check of 300 paths after the run | {statuses} |

## Over time

| minute | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | RSS MiB at end |
|---|---|---|---|---|---|---|---|---|
{rows}

![throughput, latency and RSS over time](load_bench.png)
"""
    output = RESULTS_DIR / "load_bench.md"
    output.write_text(text)
    (RESULTS_DIR / "load_bench.json").write_text(json.dumps(
        {"segments": [asdict(s) for s in segments], "rss": rss, "statuses": statuses}, indent=1))
    return output


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0


def _rss_at(rss: list[tuple[float, float]], moment: float) -> float:
    before = [m for t, m in rss if t <= moment]
    return before[-1] if before else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="a data dir with an SQLite store and an index")
    parser.add_argument("--duration", type=int, default=600, help="seconds of load (default 600)")
    parser.add_argument("--segment", type=int, default=60, help="seconds per wrk run (default 60)")
    parser.add_argument("--rate", type=float, default=40, help="offered requests per second (default 40)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=30, help="seconds of load before measuring")
    parser.add_argument("--seed", type=int, default=20251125)
    args = parser.parse_args()

    ids = sample_ids(args.data_dir, 5000, args.seed)
    args.paths = request_mix(ids, 20000, args.seed)
    pause_ms = int(args.connections / args.rate * 1000)
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "mix.lua"
        script.write_text(WRK_SCRIPT % {"paths": ",".join(json.dumps(p) for p in args.paths), "pause_ms": pause_ms})
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = Path(scratch) / "serve.log"
        env = os.environ | {"TRIALFINDER_LOG_LEVEL": "warning"}  # the access log would be measured, not the app
        server = subprocess.Popen(
            [python_executable(), "-m", "trialfinder", "--data-dir", str(args.data_dir), "serve", "--port", str(port),
             "--workers", str(args.workers)], env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
            start_new_session=True)
        try:
            wait_ready(base, 600)
            print(f"server ready on {base}; warming up {args.warmup} s", flush=True)
            run_segment(base, script, args.warmup, args.connections, 2)
            load_before = load_average()
            started = time.monotonic()
            sampler = RssSampler(server.pid, 5.0, started)
            sampler.start()
            segments: list[Segment] = []
            while time.monotonic() - started < args.duration - 1:
                seconds = min(args.segment, int(args.duration - (time.monotonic() - started)))
                at = time.monotonic() - started
                result = run_segment(base, script, seconds, args.connections, 2)
                duration = result["duration_us"] / 1e6
                errors = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors",
                                                  "timeouts"))
                segment = Segment(at, result["requests"], duration, result["requests"] / duration, result["p50_ms"],
                                  result["p90_ms"], result["p99_ms"], result["max_ms"], errors, result)
                segments.append(segment)
                print(f"{at / 60:5.1f} min: {segment.rps:6.1f} req/s  p50 {segment.p50_ms:7.1f} ms  "
                      f"p99 {segment.p99_ms:7.1f} ms  errors {errors}  RSS {sampler.samples[-1][1]:.0f} MiB",
                      flush=True)
            sampler.stopped.set()
            sampler.join()
            load_after = load_average()
            statuses = check_paths(base, args.paths[:300])
            studies = httpx.get(base + "/readyz", timeout=30).json().get("index_studies") or 0
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        report = write_report(args, segments, sampler.samples, statuses, studies, load_before, load_after)
        plot(segments, sampler.samples, RESULTS_DIR / "load_bench.png",
             f"trialfinder serve --workers {args.workers}, {studies:,} studies, offered {args.rate:g} req/s")
        print(f"results: {report}")


if __name__ == "__main__":
    main()
