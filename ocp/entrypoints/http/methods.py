"""The `Allow` of a 405: every method the path supports, read from the published OpenAPI
document. Starlette answers with the methods of the first route whose path matched, so
`OPTIONS /assignments/{id}` said `Allow: GET` although PATCH and DELETE exist too."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from fastapi import FastAPI

_OPERATIONS = ("get", "put", "post", "delete", "patch")


@lru_cache(maxsize=8)
def _templates(app: FastAPI) -> list[tuple[re.Pattern[str], int, str]]:
    """(path pattern, count of literal segments, Allow value) of each published path."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    found = []
    for template, operations in paths.items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        literals = sum(1 for part in template.split("/") if part and not part.startswith("{"))
        methods = [m.upper() for m in _OPERATIONS if m in operations]
        found.append((re.compile(pattern), literals, ", ".join(methods)))
    return found


def allowed_methods(app: FastAPI, path: str) -> str | None:
    """What `Allow` says for `path`: the methods of the most specific published path that
    matches it (a literal segment wins over a parameter, as in OpenAPI), or None."""
    matches = [(n, allow) for pattern, n, allow in _templates(app) if pattern.match(path)]
    if not matches:
        return None
    return max(matches)[1]
