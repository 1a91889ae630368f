"""/metrics as an operator and an attacker meet it on a real `ocp serve`: a sweep of every
route with several statuses keeps the scrape small, and OCP_METRICS_PORT moves the scrape off
the API port onto its own, where the workers add up (issue 9: 4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.builders import JWT_SECRET
from tests.integration.processes import Server, free_port, serving

TOKEN = "scrape-secret-0123456789"


def sweep(http: httpx.Client) -> int:
    """Every published operation, anonymous, with a made-up token and with a bad body: the
    traffic that once made a 738 KB scrape. The number of operations."""
    spec = http.get("/openapi.json").json()
    operations = 0
    for path, methods in spec["paths"].items():
        concrete = path.replace("{", "x").replace("}", "")
        for method in methods:
            operations += 1
            for headers in ({}, {"Authorization": "Bearer nonsense"}):
                http.request(method.upper(), concrete, headers=headers)
            http.request(method.upper(), concrete, json={"unknown": 1})
    for _ in range(20):
        http.get("/api/v1/courses")
        http.get("/api/v1/nowhere/at/all")
    return operations


def labels_of(text: str, sample: str) -> list[dict[str, str]]:
    """The label sets of every sample named `sample` in a scrape."""
    return [
        s.labels
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == sample
    ]


@pytest.fixture
def server(tmp_path: Path, mongo_uri: str) -> Iterator[Server]:
    with serving(
        tmp_path,
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB="metrics_sweep",
        OCP_JWT_SECRET=JWT_SECRET,
        OCP_METRICS_MAX_AGE_S="0",  # a scrape counts the requests just made
    ) as started:
        yield started


def test_a_sweep_of_every_route_keeps_the_scrape_under_50_kb(server: Server):
    with httpx.Client(base_url=server.base, timeout=30) as http:
        operations = sweep(http)
        scrape = http.get("/metrics")
    assert scrape.status_code == 200
    assert len(scrape.content) < 50_000, len(scrape.content)
    assert "_created" not in scrape.text
    series = labels_of(scrape.text, "http_requests_total")
    assert {labels["status"] for labels in series} <= {"1xx", "2xx", "3xx", "4xx", "5xx"}
    # Route templates, never the path a client typed; one bucket for every unknown path.
    routes = {labels["route"] for labels in series}
    assert "/api/v1/courses/{course_id}" in routes and "<unmatched>" in routes
    assert not any("xcourse_id" in route or "nowhere" in route for route in routes)
    assert len(series) <= 2 * operations
    # A client's own mistakes (4xx) are counted, not timed: a sweep adds no histogram.
    timed = {
        labels["status"] for labels in labels_of(scrape.text, "http_request_duration_seconds_count")
    }
    assert "4xx" not in timed and "2xx" in timed
    # Database timings: one histogram per port, no empty error series beside each.
    outcomes = labels_of(scrape.text, "ocp_backend_call_duration_seconds_count")
    assert outcomes and all(labels["outcome"] == "ok" for labels in outcomes)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_metrics_port_serves_the_scrape_instead_of_the_api_port(
    tmp_path: Path, mongo_uri: str, workers: str
):
    metrics_port = free_port()
    with serving(
        tmp_path,
        OCP_WORKERS=workers,
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB=f"metrics_port_{workers}",
        OCP_JWT_SECRET=JWT_SECRET,
        OCP_METRICS_MAX_AGE_S="0",
        OCP_METRICS_PORT=str(metrics_port),
        OCP_METRICS_TOKEN=TOKEN,
    ) as server:
        with httpx.Client(base_url=server.base) as api:
            assert api.get("/metrics").status_code == 404
            assert (
                api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
            )
            for _ in range(20):  # new connections, so both workers answer some
                assert (
                    api.get("/api/v1/users/me", headers={"Connection": "close"}).status_code == 401
                )
            assert "/metrics" not in api.get("/openapi.json").json()["paths"]
        metrics_base = f"http://127.0.0.1:{metrics_port}"
        anonymous = httpx.get(f"{metrics_base}/metrics")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert anonymous.json()["status"] == 401
        assert (
            httpx.get(
                f"{metrics_base}/metrics", headers={"Authorization": "Bearer guess"}
            ).status_code
            == 401
        )
        scrape = httpx.get(f"{metrics_base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scrape.status_code == 200
        assert scrape.headers["content-type"].startswith("text/plain")
        zipped = httpx.get(
            f"{metrics_base}/metrics",
            headers={"Authorization": f"Bearer {TOKEN}", "Accept-Encoding": "gzip"},
        )
        assert zipped.headers["content-encoding"] == "gzip" and "http_requests_total" in zipped.text
        assert httpx.get(f"{metrics_base}/other").status_code == 404
    counted = {
        s.labels["route"]: s.value
        for family in text_string_to_metric_families(scrape.text)
        for s in family.samples
        if s.name == "http_requests_total" and s.labels["status"] == "4xx"
    }
    # Every worker's requests, whichever answered them.
    assert counted["/api/v1/users/me"] == 20
