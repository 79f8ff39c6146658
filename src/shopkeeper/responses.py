"""A JSON response rendered by orjson (errors and hand-built bodies; typed routes let FastAPI
serialise through Pydantic)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS, default=str)
