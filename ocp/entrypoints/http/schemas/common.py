"""What every resource's schemas share: the strict input base and the page envelope."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

T = TypeVar("T")


class Input(BaseModel):
    """Base of every request body: unknown fields are an error (no mass assignment) and
    values are never coerced from another JSON type (an object is not a string)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    def named(self) -> dict[str, Any]:
        """The fields the client named, as sent (a PATCH changes only these; see `Changes`)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


PLAIN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""The `pattern` of every text field the domain checks: no control character but tab, line
feed and carriage return. The domain refuses them anyway; the pattern says so in the document
(and refuses them first, with the same message: see problems.py)."""


def _integral(value: object) -> object:
    """10.0 as the integer 10: JSON Schema counts a number with no fraction as an integer,
    so the document allows it, while strict mode would refuse every float. Any other value
    (10.5, "10", true) is left for strict validation to refuse."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = BeforeValidator(_integral)
"""Marks every `int` of a request body, after its `Field`: a JSON integer, written with or
without `.0`. (Placed after the constraints, which then still show in the document.)"""


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: last")


class Problem(BaseModel):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, object]] | None = Field(
        None, description="validation errors (422), at most 50"
    )
    errors_omitted: int | None = Field(
        None, description="how many more validation errors there were past the first 50"
    )
