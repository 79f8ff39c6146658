"""One error base class carrying its HTTP status, rendered by one handler (see ``app.py``).

Services raise these; endpoints never build error responses by hand, and the CLI prints
``error.message`` instead of a traceback.
"""

from __future__ import annotations

from typing import Any


class ShopkeeperError(Exception):
    """Base error: ``status_code`` for HTTP, ``message`` for people, ``detail`` for machines."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


class BadRequest(ShopkeeperError):
    status_code = 400
    code = "bad_request"


class Unauthorized(ShopkeeperError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ShopkeeperError):
    status_code = 403
    code = "forbidden"


class NotFound(ShopkeeperError):
    status_code = 404
    code = "not_found"


class Conflict(ShopkeeperError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ShopkeeperError):
    status_code = 413
    code = "payload_too_large"


class Invalid(ShopkeeperError):
    """Input that parsed but broke a rule; ``detail`` names the field(s)."""

    status_code = 422
    code = "invalid"


class Unavailable(ShopkeeperError):
    """The store could not take the write; the client should retry (nothing was acknowledged)."""

    status_code = 503
    code = "unavailable"
