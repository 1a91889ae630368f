"""Swagger UI served by the API itself: its assets from the `swagger-ui-bundle` package and
one initializer of ours, so `/docs` works offline and under a strict Content-Security-Policy
(no CDN, no inline script)."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from ocp.entrypoints.http.routing import GuardedRoute

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)

VENDOR = Path(swagger_ui_bundle.swagger_ui_path)
OURS = Path(__file__).resolve().parents[1] / "static"
ASSETS = {
    "swagger-ui.css": (VENDOR, "text/css"),
    "swagger-ui-bundle.js": (VENDOR, "text/javascript"),
    "favicon-32x32.png": (VENDOR, "image/png"),
    "swagger-init.js": (OURS, "text/javascript"),
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>OCP API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-init.js"></script>
</body>
</html>
"""


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"Content-Security-Policy": CSP})


@router.get("/docs/oauth2-redirect")
async def oauth2_redirect() -> FileResponse:
    return FileResponse(VENDOR / "oauth2-redirect.html", media_type="text/html")


@router.get("/docs/assets/{name}")
async def asset(name: str) -> Response:
    found = ASSETS.get(name)
    if found is None:
        return Response(status_code=404)
    folder, media_type = found
    return FileResponse(
        folder / name, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
    )
