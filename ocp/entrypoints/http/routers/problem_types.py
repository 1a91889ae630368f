"""What each problem `type` means: every problem this API answers names one of these pages
(`/problems/{type}`), and `/problems` lists them all."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from ocp.entrypoints.http.problems import PROBLEM_TYPES
from ocp.entrypoints.http.routing import GuardedRoute

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)

_STYLE = "body{font-family:sans-serif;max-width:46rem;margin:2rem auto}td{padding:.3rem .6rem}"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "Cache-Control": "public, max-age=86400",
        },
    )


@router.get("/problems")
async def problem_types() -> HTMLResponse:
    rows = "".join(
        f'<tr><td><a href="/problems/{slug}">{slug}</a></td><td>{status}</td>'
        f"<td>{escape(title)}</td><td>{escape(text)}</td></tr>"
        for slug, (status, title, text) in PROBLEM_TYPES.items()
    )
    return _page("OCP problem types", f"<h1>Problem types</h1><table>{rows}</table>")


@router.get("/problems/{slug}")
async def problem_type(slug: str) -> HTMLResponse:
    found = PROBLEM_TYPES.get(slug)
    if found is None:
        return _page("Unknown problem type", "<h1>No such problem type</h1>", status=404)
    status, title, text = found
    return _page(
        title,
        f"<h1>{escape(title)}</h1><p>HTTP {status}. {escape(text)}</p>"
        '<p><a href="/problems">All problem types</a></p>',
    )
