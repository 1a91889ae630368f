"""Adapters that wrap other adapters to measure them: call latency of the database and the
file store, login failures and throttles. Wired at the composition root, never in use cases."""
