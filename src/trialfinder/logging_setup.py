"""Structured logs: one JSON object per line (time, level, event, request id, ...), and one line per request.

`configure_logging()` sets the root logger up for a server process; `logging_config()` is the same as a
dictConfig for uvicorn, which applies it in every worker process. `RequestLogMiddleware` gives each request an
id (the caller's X-Request-ID when it is sane, else a new one), echoes it in the response, and logs
method, path, status and duration_ms when the response ends.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOG_FORMAT_ENV = "TRIALFINDER_LOG_FORMAT"
LOG_LEVEL_ENV = "TRIALFINDER_LOG_LEVEL"
REQUEST_ID_HEADER = "x-request-id"
ACCESS_LOGGER = "trialfinder.access"

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# A caller-supplied id is logged verbatim, so it must not be able to forge log structure or grow without bound.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Attributes every LogRecord has; anything else was passed through `extra=` and belongs in the JSON object.
# (color_message is uvicorn's ANSI-coloured copy of the message.)
_RECORD_ATTRIBUTES = (set(vars(logging.LogRecord("", 0, "", 0, "", (), None)))
                      | {"message", "asctime", "taskName", "color_message"})


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, event, request_id, then any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_format() -> str:
    """"json" (the default) or "text", from TRIALFINDER_LOG_FORMAT."""
    chosen = os.environ.get(LOG_FORMAT_ENV, "json").strip().lower()
    return chosen if chosen in ("json", "text") else "json"


def log_level() -> str:
    """The root log level from TRIALFINDER_LOG_LEVEL (default INFO)."""
    chosen = os.environ.get(LOG_LEVEL_ENV, "INFO").strip().upper()
    return chosen if chosen in logging.getLevelNamesMapping() else "INFO"


def logging_config(fmt: str | None = None, level: str | None = None) -> dict[str, Any]:
    """A logging.config.dictConfig that sends every logger (uvicorn's too) to stderr in the chosen format."""
    formatter = ({"()": f"{__name__}.JsonFormatter"} if (fmt or log_format()) == "json"
                 else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"})
    handler = {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level or log_level()},
        # uvicorn's own access log is replaced by RequestLogMiddleware's richer line.
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error")}
                   | {"uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"}},
    }


def configure_logging(fmt: str | None = None, level: str | None = None) -> None:
    """Apply logging_config() to this process."""
    import logging.config

    logging.config.dictConfig(logging_config(fmt, level))


def new_request_id(offered: str | None) -> str:
    """The caller's request id when it is short and plain, else a fresh random one."""
    if offered and _SANE_REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Pure ASGI middleware: a request id per request (X-Request-ID in and out) and one access log line."""

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.log = logger or logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"x-request-id"), None)
        request_id = new_request_id(offered)
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            peer = scope.get("client")
            # The rate limiter stores the address it resolved through trusted proxies; prefer that one.
            client = scope["state"].get("client_ip") or (peer[0] if peer else None)
            self.log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "client": client,
                },
            )
            request_id_var.reset(token)


# environment failures -----------------------------------------------------------------------------------------

EXIT_IO_ERROR = 74  # sysexits EX_IOERR: the disk is full or failing
EXIT_TEMPORARY_FAILURE = 75  # sysexits EX_TEMPFAIL: the store cannot be reached right now; retry later

_DISK_FULL_SIGNS = ("database or disk is full", "no space left on device", "could not extend file", "disk full",
                    "sqlstate 53100", "errno 28")
_IO_SIGNS = ("disk i/o error", "read-only file system", "attempt to write a readonly database")
_UNREACHABLE_SIGNS = ("connection refused", "could not connect", "connection timed out", "server closed the connection",
                      "unable to open database file", "name or service not known", "the database system is")


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def describe_environment_failure(error: BaseException) -> tuple[str, int] | None:
    """A one-line explanation and exit status for a failure of the machine rather than the input, else None.

    Disk full (SQLite, PostgreSQL, the index), I/O errors and an unreachable store are reported this way by the
    CLI and the index follower: a traceback would bury the cause, and each is fixed outside trialfinder.
    """
    import errno

    for link in _chain(error):
        text = f"{type(link).__name__}: {link}".lower()
        if (isinstance(link, OSError) and link.errno == errno.ENOSPC) or any(s in text for s in _DISK_FULL_SIGNS):
            message = ("the disk is full (no space left for the store or the search index). Everything written "
                       "before this point is kept; free some space, then run the same command again to continue.")
            return message, EXIT_IO_ERROR
        if isinstance(link, OSError) and link.errno in (errno.EIO, errno.EROFS) or any(s in text for s in _IO_SIGNS):
            message = f"the disk refused a write ({_first_line(link)}); check the file system, then run it again."
            return message, EXIT_IO_ERROR
        if any(s in text for s in _UNREACHABLE_SIGNS):
            message = (f"the store cannot be reached ({_first_line(link)}); check TRIALFINDER_DATABASE_URL and that "
                       "the database server is up, then run the same command again.")
            return message, EXIT_TEMPORARY_FAILURE
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else type(error).__name__
    return first[:200]


def exit_on_environment_failure(entry):
    """Wrap a console entry point: an environment failure ends it with one clear line on stderr, not a traceback."""
    import functools
    import sys

    @functools.wraps(entry)
    def guarded(*args, **kwargs):
        try:
            return entry(*args, **kwargs)
        except Exception as error:  # anything else keeps its traceback: that is a bug worth seeing
            described = describe_environment_failure(error)
            if described is None:
                raise
            message, status = described
            sys.stderr.write(f"error: {message}\n")
            logging.getLogger("trialfinder").debug("environment failure", exc_info=error)
            raise SystemExit(status) from None

    return guarded
