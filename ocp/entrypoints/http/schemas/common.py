"""What every resource's schemas share: the strict input base and the page envelope."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Input(BaseModel):
    """Base of every request body: unknown fields are an error (no mass assignment) and
    values are never coerced from another JSON type (an object is not a string)."""

    model_config = ConfigDict(extra="forbid", strict=True)


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
