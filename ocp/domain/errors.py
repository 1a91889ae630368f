"""What can go wrong in the business, as one small hierarchy of errors safe to show a client."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every business error; `detail` is written for the client."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """The thing does not exist, or the actor may not know that it does."""


class AuthenticationFailed(DomainError):
    """No valid credentials: wrong password, unknown, expired or revoked token."""


class PermissionDenied(DomainError):
    """The actor is known but may not do this."""


class Conflict(DomainError):
    """The request clashes with the current state (a taken email, a full course)."""


class RuleViolated(DomainError):
    """A value or request breaks a business rule; `field` names the input when there is one."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class InvalidOneTimeToken(DomainError):
    """A reset or verification token that is unknown, already used or expired."""


class InvalidCursor(DomainError):
    """A paging cursor that this server did not issue."""


class StaleVersion(DomainError):
    """The client edited a version that is no longer the current one."""


class TooManyAttempts(DomainError):
    """A rate limit was hit; retry after `retry_after_s` seconds."""

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = max(1, retry_after_s)


class PayloadTooLarge(DomainError):
    """The content is larger than allowed."""


class UnsupportedContent(DomainError):
    """The content is not of a type allowed here."""


class ChecksumMismatch(DomainError):
    """The bytes that arrived do not hash to the checksum the client sent with them."""


class DuplicateSlug(Conflict):
    """A course slug is taken already; the caller picks another."""
