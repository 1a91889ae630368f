"""Token-authenticated GET /api/v1/users/me on the stack `make run` starts (embedded database,
metrics and JSON access log on, caches on), as a ratio of requests per second to

1. a bare FastAPI route returning the same JSON with no database (issue 11: aim >= 0.5), and
2. a bare FastAPI + pymongo route doing one `find_one` on an embedded database,

in the same run, beside the same server with OCP_CACHE_ENABLED=false (every request reads
the user and the session from the database) and OCP on in-memory adapters.

    .venv/bin/python bench/users_me.py [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from pymongo import MongoClient

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.apps import ME  # noqa: E402
from bench.harness import median, ocp_server, uvicorn_server, wrk  # noqa: E402
from bench.observability import token_for  # noqa: E402
from ocp.adapters.mongo.embedded import EmbeddedDatabase  # noqa: E402

SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789"
MAKE_RUN = {  # what `make run` serves with, but for the secret and a fast bcrypt
    "OCP_JWT_SECRET": SECRET,
    "OCP_BCRYPT_ROUNDS": "4",
    "OCP_METRICS_ENABLED": "true",
    "OCP_LOG_FORMAT": "json",
    "OCP_LOG_LEVEL": "info",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    names = ["bare", "bare_mongo", "ocp", "ocp_nocache", "ocp_memory"]
    rps: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        root = Path(scratch)
        database = EmbeddedDatabase(root / "bare-db")
        uri = database.start()
        stack.callback(database.stop)
        with MongoClient(uri) as client:
            client["bench_bare"]["users"].insert_one(dict(ME, _id=ME["id"]))
        urls = {
            "bare": stack.enter_context(uvicorn_server("bench.apps:bare", factory=True)),
            "bare_mongo": stack.enter_context(
                uvicorn_server(
                    "bench.apps:bare_mongo", factory=True, env={"OCP_BENCH_MONGODB_URI": uri}
                )
            ),
            "ocp": stack.enter_context(
                ocp_server(
                    {**MAKE_RUN, "OCP_DATA_DIR": str(root / "on")}, log_to=str(root / "on.log")
                )
            ),
            "ocp_nocache": stack.enter_context(
                ocp_server(
                    {**MAKE_RUN, "OCP_DATA_DIR": str(root / "off"), "OCP_CACHE_ENABLED": "false"},
                    log_to=str(root / "off.log"),
                )
            ),
            "ocp_memory": stack.enter_context(
                uvicorn_server(
                    "bench.apps:ocp_in_memory",
                    factory=True,
                    env={"OCP_JWT_SECRET": SECRET, "OCP_BCRYPT_ROUNDS": "4"},
                )
            ),
        }
        auth = {name: token_for(urls[name]) for name in ("ocp", "ocp_nocache", "ocp_memory")}
        for _ in range(args.rounds):  # interleaved, so drift in the machine hits all alike
            for name in names:
                url = f"{urls[name]}/api/v1/users/me"
                rps[name].append(wrk(url, seconds=args.seconds, headers=auth.get(name)))
    m = {name: median(values) for name, values in rps.items()}
    label = {
        "bare": "bare FastAPI route, no database",
        "bare_mongo": "bare FastAPI + pymongo find_one",
        "ocp": "OCP /users/me, make-run stack",
        "ocp_nocache": "  the same, OCP_CACHE_ENABLED=false",
        "ocp_memory": "  OCP on in-memory adapters",
    }
    for name in names:
        rounds = [round(x) for x in rps[name]]
        print(f"{label[name]:38}: {m[name]:7.0f} req/s  {rounds}")
    print(f"ratio OCP / bare route        : {m['ocp'] / m['bare']:.2f}  (aim >= 0.50; was 0.15)")
    print(f"ratio OCP / bare find_one     : {m['ocp'] / m['bare_mongo']:.2f}  (was 0.54)")
    print(f"ratio caches off / bare route : {m['ocp_nocache'] / m['bare']:.2f}")
    print(f"ratio in-memory / bare route  : {m['ocp_memory'] / m['bare']:.2f}")


if __name__ == "__main__":
    main()
