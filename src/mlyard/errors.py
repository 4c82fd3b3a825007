"""The exceptions mlyard raises, and the one table mapping each to an HTTP status and exit code.

    MlyardError
    ├── InvalidArgument        400 / exit 2   a value given by the user is wrong (names the field)
    │   ├── InvalidSpec        400 / exit 2   a YAML/JSON spec is wrong (names the file and path)
    │   ├── MalformedRequest   400 / exit 2   a request body is not what its route parses (bad JSON)
    │   ├── InputMismatch      422 / exit 2   scoring input does not fit the model (names the column)
    │   └── PayloadTooLarge    413 / exit 2   a request body over the size limit
    ├── NotFound               404 / exit 3   a workspace, job, data asset, model, alias… is missing,
    │                                         or a file or folder a spec or an option names
    ├── AlreadyExists          409 / exit 4   an immutable thing with that identity exists
    ├── Conflict               409 / exit 4   the request clashes with current state
    │   └── LeaseLost          409 / exit 4   a worker's job was given to another (its lease ran out)
    ├── PermissionDenied       403 / exit 5   known caller, not allowed (role, protected alias, …)
    │   └── Unauthenticated    401 / exit 5   no valid API key (missing, wrong, revoked, expired)
    ├── WorkspaceError         400 / exit 6   the workspace path or database is unusable
    ├── StoreError             503 / exit 7   the database could not be reached or stayed locked
    ├── JobNotCompleted        409 / exit 8   a job waited on ended Failed or Canceled
    ├── EnvironmentBuildError  422 / exit 9   an environment could not be built (log tail attached)
    ├── TooManyRequests        429 / exit 10  a scoring instance is at its concurrency limit
    ├── RequestTimeout         408 / exit 10  scoring took longer than request_timeout_ms
    ├── NotReady               503 / exit 10  a scoring instance is still loading, or its init() failed
    ├── ModelError             500 / exit 10  the model or scoring script raised while scoring
    └── ValidationFailed       422 / exit 11  `mlyard validate` found problems (data, training, scoring)

Messages say what happened and what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class MlyardError(Exception):
    """Base of every error mlyard raises on purpose."""

    error_code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


class InvalidArgument(MlyardError):
    error_code = "INVALID_PARAMETER_VALUE"
    http_status = 400
    exit_code = 2


class InvalidSpec(InvalidArgument):
    error_code = "INVALID_SPEC"


class MalformedRequest(InvalidArgument):
    """A request body that cannot be parsed at all (not JSON, not UTF-8, no body)."""

    error_code = "BAD_REQUEST"


class InputMismatch(InvalidArgument):
    """Scoring input that parses but does not fit the model: a missing, unknown or mistyped column."""

    error_code = "INVALID_INPUT"
    http_status = 422


class PayloadTooLarge(InvalidArgument):
    error_code = "REQUEST_TOO_LARGE"
    http_status = 413


class NotFound(MlyardError):
    error_code = "RESOURCE_DOES_NOT_EXIST"
    http_status = 404
    exit_code = 3


class AlreadyExists(MlyardError):
    error_code = "RESOURCE_ALREADY_EXISTS"
    http_status = 409
    exit_code = 4


class Conflict(MlyardError):
    error_code = "CONFLICT"
    http_status = 409
    exit_code = 4


class LeaseLost(Conflict):
    error_code = "LEASE_LOST"


class PermissionDenied(MlyardError):
    error_code = "PERMISSION_DENIED"
    http_status = 403
    exit_code = 5


class Unauthenticated(PermissionDenied):
    error_code = "UNAUTHENTICATED"
    http_status = 401


class WorkspaceError(MlyardError):
    error_code = "INVALID_WORKSPACE"
    http_status = 400
    exit_code = 6


class StoreError(MlyardError):
    error_code = "STORE_UNAVAILABLE"
    http_status = 503
    exit_code = 7


class JobNotCompleted(MlyardError):
    """A job that was waited on (`--stream`, `client.jobs.wait`) ended Failed or Canceled."""

    error_code = "JOB_NOT_COMPLETED"
    http_status = 409
    exit_code = 8


class EnvironmentBuildError(MlyardError):
    """Building an environment failed (no such interpreter, a package that does not install, …)."""

    error_code = "ENVIRONMENT_BUILD_FAILED"
    http_status = 422
    exit_code = 9


class TooManyRequests(MlyardError):
    """A scoring instance already runs `max_concurrent_requests_per_instance` requests."""

    error_code = "TOO_MANY_REQUESTS"
    http_status = 429
    exit_code = 10


class RequestTimeout(MlyardError):
    """Scoring one request took longer than the deployment's `request_timeout_ms`."""

    error_code = "REQUEST_TIMEOUT"
    http_status = 408
    exit_code = 10


class BadGateway(MlyardError):
    """An endpoint's instance broke the connection, and so did the one the request was retried on."""

    error_code = "BAD_GATEWAY"
    http_status = 502


class GatewayError(MlyardError):
    """A bug of the endpoint gateway's own (never expected; logged with its traceback)."""

    error_code = "GATEWAY_ERROR"
    http_status = 500


class NotReady(MlyardError):
    """A scoring instance that has not loaded its model (yet, or ever: its init() failed)."""

    error_code = "NOT_READY"
    http_status = 503
    exit_code = 10


class ModelError(MlyardError):
    """The model's predict or the scoring script's run() raised; the instance log has the traceback."""

    error_code = "MODEL_ERROR"
    http_status = 500
    exit_code = 10


class ValidationFailed(MlyardError):
    """`mlyard validate` ran and found problems; its report lists every one of them. An exit code
    of its own, so CI tells "the data or model is wrong" from "the command was wrong" (exit 2)."""

    error_code = "VALIDATION_FAILED"
    http_status = 422
    exit_code = 11


def combined(problems: Sequence[MlyardError]) -> MlyardError:
    """Several problems found in one pass (the steps of a pipeline) as one error: their messages one
    per line, of their common type, so an unknown component exits 3 wherever it is named; an
    `InvalidSpec` when the problems are of different kinds."""
    kinds = {type(problem) for problem in problems}
    kind = kinds.pop() if len(kinds) == 1 else InvalidSpec
    return kind("\n".join(problem.message for problem in problems))


def error_from_response(status: int, body: object) -> MlyardError:
    """The exception a server's `{"error_code", "message"}` answer stands for (the client side of
    the table above), so a remote call raises what the same local call would."""
    code = body.get("error_code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    text = str(message) if message else f"the server answered HTTP {status}"
    by_code = {cls.error_code: cls for cls in _ALL} | _SERVER_CODES
    cls = by_code.get(str(code)) if code else None
    if cls is None:
        cls = next((c for c in _BY_STATUS if c.http_status == status), MlyardError)
    return cls(text)


_ALL: tuple[type[MlyardError], ...] = (
    InvalidSpec, InvalidArgument, MalformedRequest, InputMismatch, PayloadTooLarge, NotFound, AlreadyExists,
    LeaseLost, Conflict, Unauthenticated, PermissionDenied, WorkspaceError, StoreError, JobNotCompleted,
    EnvironmentBuildError, TooManyRequests, RequestTimeout, NotReady, ModelError, ValidationFailed,
)  # fmt: skip
_SERVER_CODES: dict[str, type[MlyardError]] = {
    "ENDPOINT_NOT_FOUND": NotFound,
    "METHOD_NOT_ALLOWED": InvalidArgument,
}
# When the answer has no code of ours (a proxy's 502, say), its status decides.
_BY_STATUS: tuple[type[MlyardError], ...] = (
    InvalidArgument,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    Conflict,
    StoreError,
)
