"""What an operator sees of the caches in `/metrics`: lookups by outcome, changes received,
resets (everything forgotten) and change-stream restarts, and whether the stream is live."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CACHE_LOOKUPS = Counter(
    "ocp_cache_lookups_total",
    "Cache lookups by cache and result: hit, miss (read from the database and kept), "
    "bypass (the change feed is not live, so the database answered and nothing was kept)",
    ["cache", "result"],
)
CHANGE_EVENTS = Counter(
    "ocp_cache_invalidations_total",
    "Document changes applied to the caches (from the change stream and this process's writes)",
)
FEED_RESETS = Counter(
    "ocp_cache_resets_total",
    "Times every cache was emptied because changes may have been missed (stream broke, "
    "silence, start)",
)
STREAM_RESTARTS = Counter(
    "ocp_change_stream_restarts_total", "Times the change stream was opened again after a failure"
)
STREAM_LIVE = Gauge(
    "ocp_change_stream_live",
    "1 while the change stream is open and heard from (caches answer), else 0 "
    "(every read goes to the database); the lowest of the workers",
    multiprocess_mode="livemin",
)
