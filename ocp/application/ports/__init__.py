"""Ports: what the use cases need from the outside world, as `typing.Protocol`s in domain terms.

One module per capability; adapters implement them, the container picks which.
"""
