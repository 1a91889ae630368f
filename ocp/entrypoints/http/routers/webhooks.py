"""Webhook endpoints, their deliveries and the event log (admin), and jobs (their creator)."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from ocp.application.events.jobs import JobService
from ocp.application.events.webhooks import WebhookService
from ocp.domain.webhooks import DeliveryStatus, WebhookChanges
from ocp.entrypoints.http.deps import CurrentUser, PagingParams, use
from ocp.entrypoints.http.paging import link_next
from ocp.entrypoints.http.problems import responses
from ocp.entrypoints.http.routing import GuardedRoute
from ocp.entrypoints.http.schemas.common import PageOut
from ocp.entrypoints.http.schemas.events import (
    DeliveryOut,
    EventOut,
    EventType,
    JobOut,
    SecretOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
    WebhookPatchIn,
)

Webhooks = Annotated[WebhookService, use(lambda c: c.webhook_service)]
Jobs = Annotated[JobService, use(lambda c: c.job_service)]
EndpointId = Annotated[str, Query(max_length=100)]

router = APIRouter(tags=["webhooks"], route_class=GuardedRoute)


@router.post(
    "/api/v1/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreatedOut,
    summary="Register a webhook endpoint (admin); the signing secret is shown only here",
    responses=responses(401, 403, 422),
)
async def register_webhook(
    body: WebhookIn, user: CurrentUser, service: Webhooks, response: Response
) -> WebhookCreatedOut:
    endpoint = await service.register(user, body.url, body.events, body.description)
    response.headers["Location"] = f"/api/v1/webhooks/{endpoint.id}"
    return WebhookCreatedOut.with_secret(endpoint)


@router.get(
    "/api/v1/webhooks",
    response_model=PageOut[WebhookOut],
    summary="List webhook endpoints (admin)",
    responses=responses(400, 401, 403, 422),
)
async def list_webhooks(
    request: Request, user: CurrentUser, service: Webhooks, page: PagingParams, response: Response
) -> PageOut[WebhookOut]:
    found = await service.list_endpoints(user, page.limit, page.cursor)
    link_next(request, response, found.next_cursor)
    return PageOut[WebhookOut](
        items=[WebhookOut.from_domain(e) for e in found.items], next_cursor=found.next_cursor
    )


@router.get(
    "/api/v1/webhooks/{webhook_id}",
    response_model=WebhookOut,
    summary="One webhook endpoint (admin)",
    responses=responses(401, 403, 404),
)
async def get_webhook(webhook_id: str, user: CurrentUser, service: Webhooks) -> WebhookOut:
    return WebhookOut.from_domain(await service.get(user, webhook_id))


@router.patch(
    "/api/v1/webhooks/{webhook_id}",
    response_model=WebhookOut,
    summary="Edit a webhook endpoint (admin); `active: true` switches a disabled one back on",
    responses=responses(401, 403, 404, 422),
)
async def edit_webhook(
    webhook_id: str, body: WebhookPatchIn, user: CurrentUser, service: Webhooks
) -> WebhookOut:
    changes = WebhookChanges.named(body.named())
    return WebhookOut.from_domain(await service.edit(user, webhook_id, changes))


@router.delete(
    "/api/v1/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook endpoint (admin); its pending deliveries fail",
    responses=responses(401, 403, 404),
)
async def delete_webhook(webhook_id: str, user: CurrentUser, service: Webhooks) -> Response:
    await service.delete(user, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api/v1/webhooks/{webhook_id}/rotate-secret",
    response_model=SecretOut,
    summary="A new signing secret (admin); the old one keeps signing beside it for 24 hours",
    responses=responses(401, 403, 404),
)
async def rotate_secret(webhook_id: str, user: CurrentUser, service: Webhooks) -> SecretOut:
    endpoint = await service.rotate_secret(user, webhook_id)
    return SecretOut(secret=endpoint.secret)


@router.post(
    "/api/v1/webhooks/{webhook_id}/ping",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a `webhook.ping` event to this endpoint only (admin)",
    responses=responses(401, 403, 404),
)
async def ping_webhook(webhook_id: str, user: CurrentUser, service: Webhooks) -> Response:
    await service.ping(user, webhook_id)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.get(
    "/api/v1/webhooks/{webhook_id}/deliveries",
    response_model=PageOut[DeliveryOut],
    summary="An endpoint's deliveries, newest first (admin)",
    responses=responses(400, 401, 403, 404, 422),
)
async def list_deliveries(
    request: Request,
    webhook_id: str,
    user: CurrentUser,
    service: Webhooks,
    page: PagingParams,
    response: Response,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
) -> PageOut[DeliveryOut]:
    found = await service.list_deliveries(user, webhook_id, status_, page.limit, page.cursor)
    link_next(request, response, found.next_cursor)
    return PageOut[DeliveryOut](
        items=[DeliveryOut.from_domain(d) for d in found.items], next_cursor=found.next_cursor
    )


@router.post(
    "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a delivery again now, with a fresh count of attempts (admin)",
    responses=responses(401, 403, 404),
)
async def redeliver(
    webhook_id: str, delivery_id: str, user: CurrentUser, service: Webhooks
) -> Response:
    await service.redeliver(user, webhook_id, delivery_id)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.get(
    "/api/v1/events",
    response_model=PageOut[EventOut],
    summary="The event log, newest first (admin)",
    responses=responses(400, 401, 403, 422),
    tags=["events"],
)
async def list_events(
    request: Request,
    user: CurrentUser,
    service: Webhooks,
    page: PagingParams,
    response: Response,
    type_: Annotated[EventType | None, Query(alias="type")] = None,
) -> PageOut[EventOut]:
    found = await service.list_events(user, type_.value if type_ else None, page.limit, page.cursor)
    link_next(request, response, found.next_cursor)
    return PageOut[EventOut](
        items=[EventOut.from_domain(e) for e in found.items], next_cursor=found.next_cursor
    )


@router.get(
    "/api/v1/jobs/{job_id}",
    response_model=JobOut,
    summary="A job's status, progress and result (its creator, admins)",
    responses=responses(401, 404),
    tags=["jobs"],
)
async def get_job(job_id: str, user: CurrentUser, service: Jobs) -> JobOut:
    return JobOut.from_domain(await service.get(user, job_id))


@router.get(
    "/api/v1/jobs/{job_id}/report.csv",
    summary="A bulk enrollment job's rows as CSV `email,outcome` (its creator, admins)",
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
        **responses(401, 404),
    },
    response_class=Response,
    tags=["jobs"],
)
async def job_report(job_id: str, user: CurrentUser, service: Jobs) -> Response:
    job = await service.get(user, job_id)
    rows = (job.result or {}).get("outcomes", {})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["email", "outcome"])
    for email, outcome in rows.items():
        writer.writerow([_formula_safe(email), outcome])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{job.id}.csv"'},
    )


def _formula_safe(cell: str) -> str:
    """A spreadsheet would run a cell starting with = + - @ (or a tab/CR) as a formula."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
