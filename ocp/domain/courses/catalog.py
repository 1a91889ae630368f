"""The catalog: the terms a course is found by, the orders it lists in, and the one key per
order that places a course in it. The use cases build queries from here; the stores index
and read back what is here (see docs/courses.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from enum import StrEnum

from ocp.domain.courses.course import Course
from ocp.domain.courses.values import QUERY_WORDS_MAX, CourseStatus, Level, fold, tag, words

# Separates a sort value from the id that breaks its ties; below every character a title
# keeps, so "abc" sorts before "abc d" and both before "abd".
KEY_SEP = "\x1f"


class CatalogSort(StrEnum):
    NEWEST = "newest"  # latest published first
    TITLE = "title"  # A to Z, case- and accent-insensitive
    RATING = "rating"  # highest rating_avg first
    POPULAR = "popular"  # highest enrolled_count first

    @property
    def descending(self) -> bool:
        return self is not CatalogSort.TITLE


def catalog_key(course: Course, sort: CatalogSort) -> str:
    """The course's place in a catalog order: its sort value and its id folded into one
    string, unique per course. Stores index it, and a cursor is one such key, so the next
    page is one range on one field (`key < cursor`, or `>` for A to Z)."""
    if sort is CatalogSort.NEWEST:
        when = course.published_at or course.created_at  # a draft places by its creation
        value = when.astimezone(UTC).strftime("%Y%m%d%H%M%S") + f"{when.microsecond // 1000:03d}"
    elif sort is CatalogSort.TITLE:
        value = fold(course.title)
    elif sort is CatalogSort.RATING:
        return rating_key(course.id, course.rating_avg)
    else:
        return popularity_key(course.id, course.enrolled_count)
    return f"{value}{KEY_SEP}{course.id}"


def rating_key(course_id: str, rating_avg: float) -> str:
    """`catalog_key` by rating, from the two values it rests on (a store moving a counter)."""
    return f"{round(rating_avg * 10_000):06d}{KEY_SEP}{course_id}"


def popularity_key(course_id: str, enrolled_count: int) -> str:
    """`catalog_key` by popularity, from the two values it rests on."""
    return f"{enrolled_count:012d}{KEY_SEP}{course_id}"


# Word prefixes are stored up to this length (`kp:py`, `kp:pyt`, `kp:pyth`): a longer query
# word rides its first PREFIX_MAX characters in the index and is checked on the rows found.
PREFIX_MIN, PREFIX_MAX = 2, 4
_STARTS = "kw^"  # a query term, never stored: "some word starts with this"


def course_terms(course: Course) -> list[str]:
    """Everything a catalog filter can ask for, as one list of prefixed terms: the words of
    title, summary and tags (`kw:`) and their first 2 to 4 characters (`kp:`), each tag, the
    level, the category and every staff id."""
    text = " ".join([course.title, course.summary, *course.tags])
    found = words(text)
    return list(
        dict.fromkeys(
            [
                *(f"kw:{w}" for w in found),
                *(
                    f"kp:{w[:n]}"
                    for w in found
                    for n in range(PREFIX_MIN, min(len(w), PREFIX_MAX) + 1)
                ),
                *(f"tag:{t}" for t in course.tags),
                f"level:{course.level.value}",
                *([f"cat:{fold(course.category)}"] if course.category else []),
                *(f"by:{i}" for i in course.staff_ids),
            ]
        )
    )


@dataclass(frozen=True, slots=True)
class CatalogFilter:
    """What a client asks of the catalog (`GET /courses`)."""

    query: str | None = None
    tag: str | None = None
    level: Level | None = None
    category: str | None = None
    instructor_id: str | None = None
    mine: bool = False
    sort: CatalogSort = CatalogSort.NEWEST

    def terms(self) -> list[str] | None:
        """The terms a course must all have (see `course_terms`), the narrowest kind first: a
        store may look up the first and check the rest. None when nothing can match (a query
        of punctuation only)."""
        terms: list[str] = []
        if self.instructor_id is not None:
            terms.append(f"by:{self.instructor_id}")
        if self.tag is not None:
            terms.append(f"tag:{tag(self.tag)}")
        if self.category is not None:
            terms.append(f"cat:{fold(' '.join(self.category.split()))}")
        checks: list[str] = []
        if self.query is not None and self.query.strip():
            found = words(self.query)
            if not found:
                return None
            # Each query word matches a word it begins (`pyth` finds Python): a one-letter
            # word only whole, a longer one by its stored prefix (and, past PREFIX_MAX
            # characters, a check of the whole prefix on the rows the index gives).
            for w in sorted(found[:QUERY_WORDS_MAX], key=len, reverse=True):
                if len(w) < PREFIX_MIN:
                    terms.append(f"kw:{w}")
                    continue
                terms.append(f"kp:{w[:PREFIX_MAX]}")
                if len(w) > PREFIX_MAX:
                    checks.append(f"{_STARTS}{w}")
        if self.level is not None:
            terms.append(f"level:{self.level.value}")
        return list(dict.fromkeys(terms)) + checks


def has_terms(stored: set[str] | frozenset[str], wanted: list[str]) -> bool:
    """Whether a course with the `stored` terms (`course_terms`) has every `wanted` one (what
    `CatalogFilter.terms` asks): the rule every store applies to what its index gave."""
    for term in wanted:
        if term.startswith(_STARTS):
            start = "kw:" + term[len(_STARTS) :]
            if not any(t.startswith(start) for t in stored):
                return False
        elif term not in stored:
            return False
    return True


def index_term(terms: list[str]) -> str | None:
    """The term a store looks up in its index (the first, the narrowest, never a check)."""
    return terms[0] if terms and not terms[0].startswith(_STARTS) else None


@dataclass(frozen=True, slots=True)
class CatalogQuery:
    """One catalog page to fetch from a store.

    `status` (published for everyone) or `staff_id` (someone's own courses, every status)
    narrows the set; every one of `terms` must match; rows come in `sort` order after the key
    `after`, at most `limit` of them.
    """

    sort: CatalogSort
    limit: int
    status: CourseStatus | None = CourseStatus.PUBLISHED
    staff_id: str | None = None
    terms: list[str] = field(default_factory=list)
    after: str | None = None

    def admits(self, course: Course) -> bool:
        """Whether `course` is in the set this query lists (the rule a store without indexes
        applies row by row); `follows` then says whether it comes after the cursor."""
        if self.staff_id is not None:
            if self.staff_id not in course.staff_ids:
                return False
        elif self.status is not None and course.status is not self.status:
            return False
        return not self.terms or has_terms(set(course_terms(course)), self.terms)

    def follows(self, key: str) -> bool:
        """Whether a course at `key` in this order comes after the cursor."""
        if self.after is None:
            return True
        return key < self.after if self.sort.descending else key > self.after


@dataclass(frozen=True, slots=True)
class CatalogRow:
    """A course on a catalog page, with its key in the page's order as the store holds it."""

    course: Course
    key: str
