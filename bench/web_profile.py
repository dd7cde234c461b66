"""CPU time per website request, measured in-process (run by hand): the whole ASGI app (every middleware), no
network and no server, so the figure barely moves with the machine's load. Optionally a cProfile of the same loop.

    .venv/bin/python bench/web_profile.py --data-dir /tmp/h4/data /study/NCT06111846
    .venv/bin/python bench/web_profile.py --data-dir /tmp/h4/data --profile 30 "/search?q=cancer&status=all"

Worker threads (the store and the search engine run in them) are folded into the calling thread while profiling,
so the profile sees a request end to end; CPU time is process time, so it counts every thread either way.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load_average  # noqa: E402


async def call(app, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """One GET through the ASGI app: (status, body bytes)."""
    parts = urlsplit(path)
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": parts.path, "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
             "root_path": "", "headers": [(b"host", b"127.0.0.1"), *headers], "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000), "state": {}}
    status, size = 0, 0
    requested = False

    async def receive():
        nonlocal requested
        if requested:  # as a server does: nothing more until the client goes away, which it never does here
            await asyncio.Event().wait()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    await app(scope, receive, send)
    return status, size


def fold_worker_threads() -> None:
    """Run sync handlers inline, so cProfile (which sees one thread) sees the store and the templates too."""
    import anyio.to_thread

    async def run_sync(func, *args, **kwargs):
        return func(*args)

    anyio.to_thread.run_sync = run_sync


async def measure(app, paths: list[str], requests: int, headers) -> tuple[list[float], list[float], int]:
    """(CPU ms per request, wall ms per request, body bytes of the last one) over `requests` requests."""
    cpu, wall, size = [], [], 0
    for index in range(requests):
        path = paths[index % len(paths)]
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        status, size = await call(app, path, headers)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started_wall) * 1000)
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}")
    return cpu, wall, size


async def main_async(args: argparse.Namespace) -> None:
    os.environ["TRIALFINDER_DATA"] = str(args.data_dir)
    os.environ.pop("TRIALFINDER_DATABASE_URL", None)
    from trialfinder.server import create_app

    app = create_app()
    headers = [(b"hx-request", b"true")] if args.htmx else []
    async with app.router.lifespan_context(app):
        await measure(app, args.paths, args.warmup, headers)
        if args.profile:
            fold_worker_threads()
            profiler = cProfile.Profile()
            profiler.enable()
            await measure(app, args.paths, args.profile, headers)
            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)
            return
        cpu, wall, size = await measure(app, args.paths, args.requests, headers)
    print(f"{', '.join(args.paths)}: {args.requests} requests, body {size:,} bytes, "
          f"CPU/request p50 {statistics.median(cpu):.2f} ms mean {statistics.fmean(cpu):.2f} ms, "
          f"wall p50 {statistics.median(wall):.2f} ms; load average {load_average()}")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="URL paths with query strings, cycled through")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", type=int, default=0, help="profile this many requests instead of timing")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=45)
    parser.add_argument("--htmx", action="store_true", help="send HX-Request: true (fragment responses)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
