"""One JSON error shape for every refusal: `{"error_code": ..., "message": ...}`.

`MlyardError` subclasses map to their own `http_status` (the table in `mlyard.errors`). Request
validation errors (malformed JSON, wrong types, missing or unknown fields) are 400
`INVALID_PARAMETER_VALUE`, like `InvalidArgument`, with a message naming each field. Unknown
routes and methods keep their 404/405.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from mlyard.errors import InvalidArgument, MlyardError, Unauthenticated
from mlyard.server.middleware import error_response

logger = logging.getLogger("mlyard.server")

_HTTP_ERROR_CODES = {
    400: "INVALID_PARAMETER_VALUE",
    404: "ENDPOINT_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "REQUEST_TOO_LARGE",
}
_SOURCES = {"body": "body field", "query": "query parameter", "path": "path parameter", "header": "header"}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MlyardError, _mlyard_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]


async def _mlyard_error(request: Request, exc: MlyardError) -> JSONResponse:
    if exc.http_status >= 500:
        logger.warning("%s %s: %s", request.method, request.url.path, exc.message)
    response = JSONResponse(exc.to_dict(), status_code=exc.http_status)
    if isinstance(exc, Unauthenticated):  # RFC 6750: say which scheme to use
        response.headers["www-authenticate"] = 'Bearer realm="mlyard"'
    return response


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    error = InvalidArgument(describe_validation_errors(exc.errors()))
    return JSONResponse(error.to_dict(), status_code=error.http_status)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path}; the API is described at /docs"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    response = error_response(exc.status_code, _HTTP_ERROR_CODES.get(exc.status_code, "HTTP_ERROR"), message)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """One line naming every offending field: `body field 'metrics[0].step': Input should be ...`."""
    problems = []
    for error in errors:
        location = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            detail = error.get("ctx", {}).get("error", "not JSON")
            return f"malformed JSON body: {detail} (at character {location[-1]})"
        problems.append(f"{_where(location)}: {_message(error)}")
    return "invalid request: " + "; ".join(problems)


def _where(location: tuple[Any, ...]) -> str:
    if not location:
        return "request"
    source, path = str(location[0]), location[1:]
    if not path:
        return "request body" if source == "body" else source
    text = str(path[0])
    for part in path[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f"{_SOURCES.get(source, source)} {text!r}"


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "value_error":
        message = message.removeprefix("Value error, ")
    elif error.get("type") == "extra_forbidden":
        message = "unknown field"
    return message
