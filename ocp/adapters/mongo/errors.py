"""Driver errors stop here: what crosses into the application is a domain error or
`DependencyUnavailable`, never a pymongo exception or its text."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo.errors import DuplicateKeyError, PyMongoError

from ocp.application.ports.common import DependencyUnavailable
from ocp.domain.errors import Conflict

C = TypeVar("C", bound=type)


def _translating(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except DuplicateKeyError as exc:
            raise Conflict("it already exists") from exc
        except PyMongoError as exc:
            raise DependencyUnavailable("database") from exc

    return call


def translate_errors(cls: C) -> C:
    """Class decorator: every public coroutine method of a repository translates driver errors."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, _translating(member))
    return cls
