"""In-memory adapters: real implementations of the ports with the same semantics as the
MongoDB ones (uniqueness, ordering, conditional updates), for tests and quick experiments."""
