"""Issue 9 figure: what a /metrics scrape costs on the stack `make run` starts (embedded
database, metrics and JSON access log on), after traffic on every published operation with
several statuses (the attack that made 738 KB and 60-115 ms a scrape). Reported: scrape size
(plain and gzip, as Prometheus asks), scrape latency as a ratio to /healthz on the same server
in the same run, and the catalog's median latency while 8 clients scrape as fast as they can,
as a ratio to the catalog alone. One worker and two, each with /metrics on the API port and
on its own port (OCP_METRICS_PORT, served by `ocp serve`'s supervising process).

    .venv/bin/python bench/metrics.py [--scrapes 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import ocp_server  # noqa: E402
from tests.integration.processes import free_port  # noqa: E402

ENV = {
    "OCP_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
    "OCP_BCRYPT_ROUNDS": "4",
    "OCP_METRICS_ENABLED": "true",
    "OCP_LOG_FORMAT": "json",
    "OCP_LOG_LEVEL": "info",
    "OCP_DEMO_SEED": "true",
}


def warm_up(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        concrete = path.replace("{", "x").replace("}", "")
        for method in operations:
            for headers in ({}, {"Authorization": "Bearer nonsense"}):
                http.request(method.upper(), concrete, headers=headers)
            http.request(method.upper(), concrete, json={"unknown": 1})
    for _ in range(50):
        http.get("/api/v1/courses")


def timed(http: httpx.Client, url: str, count: int, headers: dict[str, str] | None = None):
    took = []
    for _ in range(count):
        started = time.perf_counter()
        http.get(url, headers=headers)
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000


def catalog_under_scrapers(base: str, scrapes: str, scrapers: int, seconds: float = 4) -> float:
    stop = time.monotonic() + seconds

    def scrape() -> None:
        with httpx.Client() as http:
            while time.monotonic() < stop:
                http.get(scrapes, headers={"Accept-Encoding": "gzip"})

    threads = [threading.Thread(target=scrape) for _ in range(scrapers)]
    for thread in threads:
        thread.start()
    with httpx.Client(base_url=base) as http:
        took = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            http.get("/api/v1/courses")
            took.append(time.perf_counter() - started)
    for thread in threads:
        thread.join()
    return statistics.median(took) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()
    for workers in (1, 2):
        for own_port in (False, True):
            measure(workers, own_port, args.scrapes)


def measure(workers: int, own_port: bool, scrapes: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        env = {**ENV, "OCP_DATA_DIR": os.path.join(scratch, "data")}
        metrics_port = free_port()
        if own_port:
            env["OCP_METRICS_PORT"] = str(metrics_port)
        log = os.path.join(scratch, "access.log")
        with ocp_server(env, workers=workers, log_to=log) as base:
            url = f"http://127.0.0.1:{metrics_port}/metrics" if own_port else f"{base}/metrics"
            with httpx.Client(base_url=base, timeout=30) as http:
                warm_up(http)
                time.sleep(1.1)  # past OCP_METRICS_MAX_AGE_S: the scrape sees the warm-up
                plain = http.get(url)
                zipped = http.get(url, headers={"Accept-Encoding": "gzip"})
                rendered_ms = []  # a scrape that renders: past the max age each time
                for _ in range(3):
                    time.sleep(1.05)
                    rendered_ms.append(timed(http, url, 1, {"Accept-Encoding": "gzip"}))
                healthz_ms = timed(http, "/healthz", scrapes)
                scrape_ms = timed(http, url, scrapes)
                gzip_ms = timed(http, url, scrapes, {"Accept-Encoding": "gzip"})
            alone = catalog_under_scrapers(base, url, 0)
            loaded = catalog_under_scrapers(base, url, 8)
        where = "own port" if own_port else "API port"
        print(
            f"workers={workers}, /metrics on the {where}: scrape "
            f"{len(plain.content) / 1024:.1f} KiB plain, "
            f"{int(zipped.headers['content-length']) / 1024:.1f} KiB gzip; "
            f"rendering {statistics.median(rendered_ms):.2f} ms; "
            f"median {scrape_ms:.2f} ms plain, {gzip_ms:.2f} ms gzip, /healthz "
            f"{healthz_ms:.2f} ms (scrape/healthz {gzip_ms / healthz_ms:.2f}); catalog "
            f"median {alone:.1f} ms alone, {loaded:.1f} ms under 8 scrapers "
            f"(ratio {loaded / alone:.2f})"
        )


if __name__ == "__main__":
    main()
