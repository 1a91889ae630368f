"""The catalog: one page of courses, in an order, narrowed by filters, in O(page)."""

from __future__ import annotations

from ocp.application.paging import Page, decode_cursor, page_of
from ocp.application.ports.courses import CourseRepository
from ocp.domain.courses import CatalogFilter, CatalogQuery, Course, CourseStatus
from ocp.domain.errors import AuthenticationFailed, InvalidCursor
from ocp.domain.users import User


class CatalogService:
    def __init__(self, *, courses: CourseRepository) -> None:
        self._courses = courses

    async def browse(
        self, actor: User | None, wanted: CatalogFilter, *, limit: int, cursor: str | None
    ) -> Page[Course]:
        """A page of the catalog: published courses for everyone, or with `mine` the caller's
        own in every status. Every filter is one exact term; `q` words must all match. The
        cursor is the sort order and the last row's stored key: the next page is one range."""
        if wanted.mine and actor is None:
            raise AuthenticationFailed("`mine=true` needs a bearer access token")
        after = decode_cursor(cursor, (str, str))
        if after is not None and after[0] != wanted.sort.value:
            raise InvalidCursor("the cursor belongs to another sort order")
        terms = wanted.terms()
        if terms is None:
            return Page([], None)
        query = CatalogQuery(
            sort=wanted.sort,
            limit=limit + 1,
            status=None if wanted.mine else CourseStatus.PUBLISHED,
            staff_id=actor.id if wanted.mine and actor is not None else None,
            terms=terms,
            after=str(after[1]) if after else None,
        )
        rows = await self._courses.search(query)
        page = page_of(rows, limit, lambda row: (wanted.sort.value, row.key))
        return Page([row.course for row in page.items], page.next_cursor)
