"""What an operator sees: /metrics by route template, one access line per request that never
carries a secret, login counters, timed adapters, and the security headers they configure."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import signal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ocp.adapters.memory.identity import InMemoryUserRepository
from ocp.adapters.observability.timing import Timed
from ocp.container import Container
from ocp.entrypoints.http.observability import JsonFormatter
from tests.builders import PASSWORD, app_client, signed_up, test_settings


async def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def count(samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def test_requests_are_counted_by_route_template_never_by_raw_path(client):
    before = await scrape(client)
    for raw in ("some-course", "another-course"):
        assert (await client.get(f"/api/v1/courses/{raw}")).status_code == 404
    await client.get("/no/such/route/at/all")
    assert (await client.get("/api/v1/courses")).status_code == 200
    after = await scrape(client)

    route = {"method": "GET", "route": "/api/v1/courses/{course_id}", "status": "4xx"}
    assert (
        count(after, "http_requests_total", **route) - count(before, "http_requests_total", **route)
        == 2
    )
    listed = {"method": "GET", "route": "/api/v1/courses", "status": "2xx"}
    assert count(after, "http_request_duration_seconds_count", **listed) > count(
        before, "http_request_duration_seconds_count", **listed
    )
    unmatched = {"route": "<unmatched>", "status": "4xx"}
    assert count(after, "http_requests_total", **unmatched) > count(
        before, "http_requests_total", **unmatched
    )
    routes = {dict(labels).get("route") for _, labels in after}
    assert not any("some-course" in (r or "") or "/no/such" in (r or "") for r in routes)
    assert ("http_requests_in_progress", frozenset()) in after


async def test_login_failures_and_throttles_are_counted(tmp_path):
    container = Container.for_settings(test_settings(tmp_path, login_max_failures=2))
    async with app_client(container) as client:
        account = await signed_up(client, container)
        before = await scrape(client)
        answers = [
            (
                await client.post(
                    "/api/v1/auth/token", data={"username": account.email, "password": "wrong-1234"}
                )
            ).status_code
            for _ in range(3)
        ]
        after = await scrape(client)
    assert answers == [401, 401, 429]
    assert count(after, "ocp_login_failures_total") - count(before, "ocp_login_failures_total") == 2
    assert (
        count(after, "ocp_login_throttled_total") - count(before, "ocp_login_throttled_total") == 1
    )
    throttled = {"route": "/api/v1/auth/token", "status": "4xx"}
    assert count(after, "http_requests_total", **throttled) > count(
        before, "http_requests_total", **throttled
    )


async def test_a_4xx_is_counted_but_not_timed(tmp_path):
    """Anyone can make every route answer 401, 404 or 422: one counter line each, not nine
    histogram lines; only answers the service worked for (2xx, 3xx, 5xx) are timed."""
    async with app_client(Container.for_settings(test_settings(tmp_path))) as http:
        for _ in range(3):
            assert (await http.get("/api/v1/users/me")).status_code == 401
        samples = await scrape(http)
    refused = {"method": "GET", "route": "/api/v1/users/me", "status": "4xx"}
    assert count(samples, "http_requests_total", **refused) >= 3
    assert not [
        labels
        for name, labels in samples
        if name.startswith("http_request_duration_seconds") and set(refused.items()) <= labels
    ]


async def test_a_timed_adapter_reports_each_call_and_still_answers():
    users = Timed(InMemoryUserRepository(), backend="database", port="users_under_test")
    assert await users.get("nobody") is None
    from prometheus_client import REGISTRY

    def observed(outcome: str) -> float | None:
        return REGISTRY.get_sample_value(
            "ocp_backend_call_duration_seconds_count",
            {"backend": "database", "port": "users_under_test", "outcome": outcome},
        )

    assert observed("ok") == 1
    # No empty error histogram beside every port: it appears with the first error.
    assert observed("error") is None
    with pytest.raises(TypeError):
        await users.get([])  # unhashable: the adapter fails
    assert observed("error") == 1


async def test_one_access_line_per_request_without_secrets(client, container, caplog):
    account = await signed_up(client, container)
    with caplog.at_level(logging.INFO, logger="ocp.access"):
        await client.post(
            "/api/v1/auth/token", data={"username": account.email, "password": PASSWORD}
        )
        me = await client.get(
            "/api/v1/users/me?token=leak", headers={**account.auth, "X-Request-ID": "req-42"}
        )
    assert me.status_code == 200
    lines = [r for r in caplog.records if r.name == "ocp.access"]
    assert len(lines) == 2
    login_line, me_line = lines
    assert (me_line.request_id, me_line.method, me_line.route, me_line.status) == (
        "req-42",
        "GET",
        "/api/v1/users/me",
        200,
    )
    assert me_line.user_id == account.id and me_line.duration_ms >= 0
    assert login_line.user_id is None and login_line.route == "/api/v1/auth/token"
    formatted = [json.loads(JsonFormatter().format(r)) for r in lines]
    assert formatted[1]["request_id"] == "req-42" and formatted[1]["status"] == 200
    text = json.dumps(formatted)
    for secret in (PASSWORD, account.access_token, account.refresh_token, "leak"):
        assert secret not in text


async def test_metrics_can_be_turned_off(tmp_path):
    container = Container.for_settings(test_settings(tmp_path, metrics_enabled=False))
    async with app_client(container) as client:
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200


async def test_hsts_follows_its_setting_and_production(tmp_path):
    for overrides, expected in (
        ({}, False),
        ({"hsts": True}, True),
        ({"env": "production", "metrics_token": "scrape-secret-0123456789"}, True),
        ({"env": "production", "metrics_token": "scrape-secret-0123456789", "hsts": False}, False),
    ):
        container = Container.for_settings(test_settings(tmp_path, **overrides))
        async with app_client(container) as client:
            response = await client.get("/healthz")
        assert ("strict-transport-security" in response.headers) is expected, overrides


def test_every_mongo_store_is_timed_and_declares_its_indexes(tmp_path):
    settings = test_settings(tmp_path, database="mongo", mongodb_uri="mongodb://127.0.0.1:9")
    container = Container.for_settings(settings)  # the client connects lazily
    stores = container.stores()
    assert len(stores.each()) >= 12
    for name, store in stores.each():
        timed = (
            store.wrapped if name in {"users", "refresh_tokens", "courses", "lessons"} else store
        )
        assert isinstance(timed, Timed), name  # under the caches: what is timed is the database
        assert callable(getattr(store, "ensure_indexes", None)), f"{name} declares no indexes"
    assert isinstance(container.file_store(), Timed) is False  # the memory store: nothing to time
    assert container.course_service()._courses is stores.courses  # one adapter per collection


@pytest.fixture
def serve_without_serving(tmp_path, monkeypatch):
    """`ocp serve` up to the point where uvicorn or the workers would take over."""
    import uvicorn

    from ocp.entrypoints import cli

    for name in [n for n in os.environ if n.startswith("OCP_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer's .env
    # `ocp serve` sets PROMETHEUS_MULTIPROC_DIR in os.environ itself; set-then-delete makes
    # monkeypatch remove it again afterwards (a bare delenv of an unset name records no undo).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "unset-after-the-test")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    monkeypatch.setenv("OCP_DATABASE", "memory")
    monkeypatch.setenv("OCP_FILE_STORE", "memory")
    monkeypatch.setenv("OCP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(uvicorn, "run", lambda **options: None)
    monkeypatch.setattr(cli, "serve_one", lambda options, **drain: 0)
    monkeypatch.setattr(cli, "serve_workers", lambda options, workers, **drain: 0)
    monkeypatch.setattr(cli, "reuse_port_supported", lambda: True)
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)
    previous = signal.getsignal(signal.SIGTERM)
    yield cli.main
    signal.signal(signal.SIGTERM, previous)


def test_one_worker_keeps_the_metric_files_it_already_writes(
    serve_without_serving, tmp_path, monkeypatch
):
    # The operator's multiprocess directory, where this process wrote since its imports.
    directory = tmp_path / "multiproc"
    directory.mkdir()
    own = directory / f"counter_{os.getpid()}.db"
    own.write_bytes(b"samples")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    assert serve_without_serving(["serve", "--workers", "1"]) == 0
    assert own.read_bytes() == b"samples"


def test_several_workers_start_from_an_empty_metrics_directory(
    serve_without_serving, tmp_path, monkeypatch
):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    stale = tmp_path / "data" / "prometheus" / "counter_1.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"a dead worker's samples")
    assert serve_without_serving(["serve", "--workers", "2"]) == 0
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(stale.parent.resolve())
    assert not stale.exists() and stale.parent.is_dir()


async def test_a_scrape_stays_small_after_traffic_on_every_route(client):
    """Every published operation answered with several statuses (the attack that made 738 KB):
    the series stay one per route, method and status class. (The registry is the process's,
    shared with other tests, so the size itself is tested on a real server by
    tests/integration/test_metrics_scrape.py and measured by bench/metrics.py.)"""
    spec = (await client.get("/openapi.json")).json()
    operations = 0
    for path, methods in spec["paths"].items():
        concrete = path.replace("{", "x").replace("}", "")
        for method in methods:
            operations += 1
            for headers in ({}, {"Authorization": "Bearer nonsense"}):
                await client.request(method.upper(), concrete, headers=headers)
            await client.request(method.upper(), concrete, json={"unknown": 1})
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "_created" not in response.text
    series = {labels for name, labels in (await scrape(client)) if name == "http_requests_total"}
    assert {dict(labels)["status"] for labels in series} <= {"1xx", "2xx", "3xx", "4xx", "5xx"}
    # Each operation answered 401, 404, 405, 415 or 422 here: one 4xx series, not five.
    assert len(series) <= 3 * operations
    buckets = response.text.count("http_request_duration_seconds_bucket{")
    assert buckets <= 7 * len(series)  # six buckets and +Inf
    # What Prometheus fetches: it asks for gzip.
    zipped = await client.get("/metrics", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(response.content) / 5
    assert "http_requests_total" in zipped.text


async def test_a_metrics_token_guards_the_scrape(tmp_path):
    settings = test_settings(tmp_path, metrics_token="scrape-secret-0123456789")
    async with app_client(Container.for_settings(settings)) as http:
        anonymous = await http.get("/metrics")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 401
        right = await http.get(
            "/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"}
        )
        assert right.status_code == 200
        assert "http_requests_total" in right.text


async def test_scrapers_within_the_max_age_share_one_rendering(tmp_path):
    settings = test_settings(tmp_path, metrics_max_age_s=60)
    async with app_client(Container.for_settings(settings)) as http:
        first = await http.get("/metrics")
        for _ in range(5):
            await http.get("/api/v1/courses/nothing-here")
        second = await http.get("/metrics")
    assert second.content == first.content


async def test_every_line_logged_while_serving_a_request_carries_its_id(tmp_path):
    """Not only the access line: a use case's own warning and the traceback of a 500, through
    the handler `ocp serve` configures, both name the request (its X-Request-ID)."""
    from dependency_injector import providers

    from ocp.entrypoints.http.observability import RequestIdFilter

    class Failing:
        async def authenticate(self, token: str):
            logging.getLogger("ocp.sessions").warning("looking the token up")
            raise RuntimeError("the session store exploded")

    container = Container.for_settings(test_settings(tmp_path))
    container.session_service.override(providers.Object(Failing()))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    ocp_logger = logging.getLogger("ocp")
    ocp_logger.addHandler(handler)
    try:
        async with app_client(container) as client:
            # The test transport re-raises what the server answered 500 for.
            with pytest.raises(RuntimeError):
                await client.get(
                    "/api/v1/users/me",
                    headers={"Authorization": "Bearer x", "X-Request-ID": "req-500"},
                )
    finally:
        ocp_logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_message = {line["msg"]: line for line in lines}
    assert by_message["looking the token up"]["request_id"] == "req-500"
    failed = next(line for line in lines if "exception" in line)
    assert failed["request_id"] == "req-500" and "RuntimeError" in failed["exception"]


async def test_the_access_line_names_the_client_its_agent_and_the_bytes_sent(client, caplog):
    agent = "probe/1.0 " + "x" * 300
    with caplog.at_level(logging.INFO, logger="ocp.access"):
        response = await client.get("/openapi.json", headers={"User-Agent": agent})
    [line] = [r for r in caplog.records if r.name == "ocp.access"]
    formatted = json.loads(JsonFormatter().format(line))
    assert formatted["client"] == "127.0.0.1"  # the test transport's peer
    assert formatted["user_agent"] == agent[:256]
    assert formatted["response_bytes"] == len(response.content) > 1000


@pytest.fixture
def serve_options(serve_without_serving, monkeypatch):
    """The uvicorn options `ocp serve` runs one worker with, given OCP_ variables (and
    `drain_delay_s` beside them)."""
    from ocp.entrypoints import cli

    def options(**env: str) -> dict:
        captured: dict = {}

        def serve_one(given: dict, **drain: float) -> int:
            captured.update(given, **drain)
            return 0

        monkeypatch.setattr(cli, "serve_one", serve_one)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert serve_without_serving(["serve"]) == 0
        return captured

    return options


async def client_logged(tmp_path, caplog, options: dict, peer: str) -> str:
    """The `client` of the access line of a request from `peer` naming another address in
    X-Forwarded-For, through uvicorn's own handling of that header with `options`."""
    import httpx
    import uvicorn

    from ocp.entrypoints.http.app import create_app

    app = create_app(Container.for_settings(test_settings(tmp_path)))
    config = uvicorn.Config(
        app,
        proxy_headers=options["proxy_headers"],
        forwarded_allow_ips=options["forwarded_allow_ips"],
        log_config=None,
    )
    config.load()
    caplog.clear()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=config.loaded_app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            with caplog.at_level(logging.INFO, logger="ocp.access"):
                await http.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    [line] = [r for r in caplog.records if r.name == "ocp.access"]
    return line.client


def test_x_forwarded_for_names_the_client_only_from_a_trusted_proxy(
    tmp_path, caplog, serve_options
):
    import asyncio

    def logged(options: dict, peer: str) -> str:
        return asyncio.run(client_logged(tmp_path, caplog, options, peer))

    nobody = serve_options()
    # Not even from loopback (uvicorn's own default) while no proxy is trusted.
    assert logged(nobody, "127.0.0.1") == "127.0.0.1"
    proxies = serve_options(OCP_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.1")
    assert proxies["proxy_headers"] is True
    assert logged(proxies, "198.51.100.7") == "198.51.100.7"
    assert logged(proxies, "10.1.2.3") == "203.0.113.9"
    assert logged(proxies, "192.0.2.1") == "203.0.113.9"


def test_ocp_serve_hands_its_servers_the_drain_delay(
    serve_options, serve_without_serving, monkeypatch
):
    from ocp.entrypoints import cli

    assert serve_options()["drain_delay_s"] == 0
    assert serve_options(OCP_DRAIN_DELAY_S="7.5")["drain_delay_s"] == 7.5
    handed: dict = {}

    def serve_workers(options: dict, workers: int, **drain: float) -> int:
        handed.update(drain)
        return 0

    monkeypatch.setattr(cli, "serve_workers", serve_workers)
    assert serve_without_serving(["serve", "--workers", "2"]) == 0
    assert handed == {"drain_delay_s": 7.5}
