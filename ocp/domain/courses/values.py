"""Course values: statuses, levels and kinds, limits, validated texts, slugs and search words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

from ocp.domain.errors import RuleViolated
from ocp.domain.text import checked_text

TITLE_MAX_CHARS = 200
SUMMARY_MAX_CHARS = 500
DESCRIPTION_MAX_CHARS = 20_000
CATEGORY_MAX_CHARS = 60
TAG_MAX_CHARS = 40
TAGS_MAX = 20
CAPACITY_MAX = 1_000_000
MODULES_MAX = 200
LESSONS_PER_MODULE_MAX = 200
CO_INSTRUCTORS_MAX = 20
LESSON_BODY_MAX_CHARS = 200_000
DURATION_MAX_S = 86_400
SLUG_MAX_CHARS = 60
QUERY_WORDS_MAX = 10

_WORD = re.compile(r"\w+")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


class CourseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Level(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class LessonKind(StrEnum):
    TEXT = "text"
    VIDEO = "video"
    FILE = "file"


# --- words and slugs -----------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower-cased, accent-free text: what searching and title ordering compare."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def words(text: str) -> list[str]:
    """The distinct folded words of `text`, in order of first appearance."""
    return list(dict.fromkeys(_WORD.findall(fold(text))))


def slugify(title: str) -> str:
    """The URL name a title suggests: ASCII letters, digits and hyphens (`course` when the
    title has none of them)."""
    ascii_text = fold(title).encode("ascii", "ignore").decode()
    slug = _SLUG_JUNK.sub("-", ascii_text).strip("-")[:SLUG_MAX_CHARS].strip("-")
    return slug or "course"


def slug_with_suffix(base: str, suffix: str) -> str:
    """A slug made unique by a short suffix, still within the length limit."""
    suffix = _SLUG_JUNK.sub("", suffix.lower())[-6:] or "x"
    return f"{base[: SLUG_MAX_CHARS - len(suffix) - 1].rstrip('-')}-{suffix}"


# --- validated values ----------------------------------------------------------------------


def title(value: str, name: str = "title") -> str:
    return checked_text(value, name, min_chars=1, max_chars=TITLE_MAX_CHARS, one_line=True)


def summary(value: str) -> str:
    return checked_text(value, "summary", min_chars=0, max_chars=SUMMARY_MAX_CHARS, one_line=True)


def description(value: str) -> str:
    return checked_text(
        value, "description", min_chars=0, max_chars=DESCRIPTION_MAX_CHARS, one_line=False
    )


def category(value: str) -> str:
    return checked_text(value, "category", min_chars=0, max_chars=CATEGORY_MAX_CHARS, one_line=True)


def tag(value: str) -> str:
    """A tag as stored and as filtered on: trimmed, lower-cased, single-spaced."""
    return " ".join(value.split()).lower()


def tags(values: Iterable[str]) -> list[str]:
    cleaned = list(dict.fromkeys(tag(v) for v in values))
    if len(cleaned) > TAGS_MAX:
        raise RuleViolated(f"at most {TAGS_MAX} tags", field="tags")
    for value in cleaned:
        checked_text(value, "tags", min_chars=1, max_chars=TAG_MAX_CHARS, one_line=True)
    return cleaned


def capacity(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= CAPACITY_MAX:
        raise RuleViolated(f"must be 1 to {CAPACITY_MAX}, or null for no limit", field="capacity")
    return value


def duration(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= DURATION_MAX_S:
        raise RuleViolated(f"must be 0 to {DURATION_MAX_S} seconds", field="duration_s")
    return value


def permutation(current: list[str], wanted: list[str], name: str) -> None:
    if len(wanted) != len(current) or set(wanted) != set(current):
        raise RuleViolated("must name every current id exactly once", field=name)
