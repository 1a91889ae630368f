"""Adapters: the I/O behind the ports, one folder per technology."""
