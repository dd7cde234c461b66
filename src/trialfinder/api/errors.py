"""Error responses: our API answers {"error": {"message", "parameter"}}; the ClinicalTrials.gov-compatible API
answers text/plain, as ClinicalTrials.gov's spec declares for every 400 and 404."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

COMPAT_PREFIX = "/v2"


class ApiError(Exception):
    """A request the API refuses: a status code, a message for people, and the parameter at fault."""

    def __init__(self, status: int, message: str, parameter: str | None = None, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter
        self.extra = extra


def bad_request(message: str, parameter: str | None = None, **extra: object) -> ApiError:
    """A 400 error naming the offending parameter."""
    return ApiError(400, message, parameter, **extra)


def not_found(message: str, parameter: str | None = None) -> ApiError:
    """A 404 error."""
    return ApiError(404, message, parameter)


def _is_compat(request: Request) -> bool:
    root = request.scope.get("root_path", "")
    path = request.url.path
    relative = path[len(root):] if root and path.startswith(root) else path
    return relative == COMPAT_PREFIX or relative.startswith(COMPAT_PREFIX + "/")


def error_response(request: Request, error: ApiError) -> Response:
    """The error in the shape of the API the request was made to."""
    if _is_compat(request):
        return PlainTextResponse(error.message, status_code=error.status)
    body = {"error": {"message": error.message, "parameter": error.parameter, **error.extra}}
    return JSONResponse(body, status_code=error.status)


def _validation_error(exc: RequestValidationError) -> ApiError:
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("query", "path", "header", "body")]
    parameter = location[0] if location else None
    message = first.get("msg", "invalid request")
    return bad_request(f"{parameter}: {message}" if parameter else message, parameter)


def install_error_handlers(app: FastAPI) -> None:
    """Turn every failure into a stable error body: validation errors become 400, unknown routes 404."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, _validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.url.path}"
        response = error_response(request, ApiError(exc.status_code, message))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error for %s", request.url)
        return error_response(request, ApiError(500, "internal error"))
