"""Ports: what the use cases need from the outside world, as `typing.Protocol`s in domain terms.

One port per collection (`stores.Stores` names them all: users, sessions, courses, lessons,
enrollments, ...), grouped in one module per capability, and the ports that are no
collection: the file store, the content sniffer, the password hasher, the token issuer, the
mailer, the clock and the id generator. Adapters implement them; the container picks which.
"""
