"""Helpers every benchmark shares: where the data lives, what machine ran it, child processes measured, results written.

Import from any bench script (`from common import ...` when run as `python bench/x.py`, or `bench.common`).
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
DEFAULT_CORPUS_DIR = Path("/tmp/trialfinder-corpus")
VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
VENV_BIN = REPO_ROOT / ".venv" / "bin"


def shared_data_dir() -> Path:
    """The shared real data folder: $TRIALFINDER_SHARED_DATA, else ../shared/data next to the repo."""
    return Path(os.environ.get("TRIALFINDER_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data").resolve()


def python_executable() -> str:
    """The project's venv interpreter when present, else the one running this script."""
    return str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable


# machine --------------------------------------------------------------------------------------------------------


def _command_output(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "(unavailable)"


def memory_total_gib() -> float:
    """Physical memory in GiB, from /proc/meminfo."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def load_average() -> str:
    """The 1/5/15-minute load averages: other engineers share the machine, so results must say how busy it was."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine_description() -> dict[str, str]:
    """What the results were measured on: kernel, CPUs, memory, Python, key library versions, load."""
    from importlib.metadata import PackageNotFoundError, version

    def package_version(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"

    cpu_model = "(unknown)"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "uname -a": _command_output(["uname", "-a"]),
        "nproc": _command_output(["nproc"]),
        "cpu": cpu_model,
        "memory": f"{memory_total_gib():.1f} GiB",
        "python": platform.python_version(),
        "sqlite": _sqlite_version(),
        "libraries": ", ".join(f"{name} {package_version(name)}"
                               for name in ("msgspec", "orjson", "SQLAlchemy", "psycopg")),
        "load average at start": load_average(),
        "date (UTC)": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


# measured child processes -----------------------------------------------------------------------------------------


@dataclass
class ChildRun:
    """One command run to completion: wall time, CPU time and peak resident memory of that process alone."""

    command: list[str]
    returncode: int
    wall_seconds: float
    user_seconds: float
    system_seconds: float
    peak_rss_mib: float
    stdout: str = ""
    stderr: str = ""

    @property
    def shell_command(self) -> str:
        return shlex.join(self.command)


def run_measured(command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> ChildRun:
    """Run a command and measure it with wait4, which reports the rusage of exactly that child (not all children)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    # Drain the pipes on threads so a chatty child never blocks; wait4 must reap it ourselves to get its rusage.
    import threading

    captured: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:
        captured[name] = stream.read()

    readers = [threading.Thread(target=drain, args=("stdout", process.stdout)),
               threading.Thread(target=drain, args=("stderr", process.stderr))]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(
        command=command,
        returncode=process.returncode,
        wall_seconds=wall,
        user_seconds=usage.ru_utime,
        system_seconds=usage.ru_stime,
        # Linux reports ru_maxrss in KiB.
        peak_rss_mib=usage.ru_maxrss / 1024,
        stdout=captured.get("stdout", b"").decode("utf-8", "replace"),
        stderr=captured.get("stderr", b"").decode("utf-8", "replace"),
    )


# results --------------------------------------------------------------------------------------------------------


@dataclass
class ResultTable:
    """A Markdown table built row by row."""

    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *values: object) -> None:
        self.rows.append([str(value) for value in values])

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def machine_markdown(machine: dict[str, str] | None = None) -> str:
    """The machine description as a Markdown bullet list."""
    machine = machine or machine_description()
    return "\n".join(f"- {key}: `{value}`" for key, value in machine.items())


def write_result(name: str, sections: list[tuple[str, str]], *, title: str, keep_earlier: bool = False) -> Path:
    """Write bench/results/<name>.md: a title, then each (heading, Markdown body) section. With keep_earlier, the
    run goes under its own dated heading above the runs already in the file, so the newest is read first."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.md"
    level = "###" if keep_earlier else "##"
    body = "\n\n".join(f"{level} {heading}\n\n{text.strip()}" for heading, text in sections) + "\n"
    if not keep_earlier:
        path.write_text(f"# {title}\n\n{body}")
        return path
    earlier = path.read_text() if path.exists() else ""
    if earlier.startswith("# "):
        earlier = earlier.split("\n", 1)[1] if "\n" in earlier else ""
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(f"# {title}\n\n## Run of {started}\n\n{body}" + (f"\n{earlier.strip()}\n" if earlier.strip() else ""))
    return path


def human_count(value: float) -> str:
    """1234567 -> '1,234,567' (integers) or '1,234.6' (others)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
