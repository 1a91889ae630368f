"""Learning: enrollments and their progress, assignments, submissions and grades, reviews.

The rules live here as plain functions and entities; who may call them is decided by the
use cases, how they are stored by the adapters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from ocp.domain.changes import UNSET, Changes, Unset
from ocp.domain.errors import Conflict, RuleViolated
from ocp.domain.files import ALLOWED_TYPES, FilePurpose
from ocp.domain.text import checked_text

ASSIGNMENT_TITLE_MAX_CHARS = 200
INSTRUCTIONS_MAX_CHARS = 20_000
MAX_POINTS_LIMIT = 10_000
MAX_FILES_LIMIT = 20
DEFAULT_MAX_FILES = 5
SUBMISSION_TEXT_MAX_CHARS = 100_000
FEEDBACK_MAX_CHARS = 10_000
REVIEW_COMMENT_MAX_CHARS = 5_000
RATING_MIN, RATING_MAX = 1, 5
BULK_EMAILS_MAX = 5_000
# A bulk enrollment of more rows than answered at once runs as a job, up to this many.
BULK_JOB_ROWS_MAX = 100_000


# --- enrollment and progress ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Progress:
    completed: int
    total: int

    @property
    def percent(self) -> int:
        """Whole percent, rounded down: 100 only when every lesson is done."""
        return self.completed * 100 // self.total if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.total > 0 and self.completed == self.total


@dataclass(slots=True)
class Enrollment:
    """One student in one course. `completed_lesson_ids` may name lessons deleted since;
    progress counts only the lessons the course has now."""

    id: str
    course_id: str
    user_id: str
    enrolled_at: datetime
    completed_lesson_ids: list[str] = field(default_factory=list)
    completed_at: datetime | None = None
    version: int = 1

    @classmethod
    def start(cls, *, id: str, course_id: str, user_id: str, now: datetime) -> Enrollment:
        return cls(id=id, course_id=course_id, user_id=user_id, enrolled_at=now)

    def completed_of(self, lesson_ids: Iterable[str]) -> list[str]:
        """The lessons of `lesson_ids` this student completed, in the course's order."""
        done = set(self.completed_lesson_ids)
        return [lesson_id for lesson_id in lesson_ids if lesson_id in done]

    def progress(self, lesson_ids: list[str]) -> Progress:
        return Progress(len(self.completed_of(lesson_ids)), len(lesson_ids))

    def complete_lesson(self, lesson_id: str, lesson_ids: list[str], now: datetime) -> bool:
        """Mark a lesson of the course done; finishing the last sets `completed_at`. False when
        nothing changed (it was done already)."""
        if lesson_id in self.completed_lesson_ids:
            return False
        self.completed_lesson_ids.append(lesson_id)
        if self.completed_at is None and self.progress(lesson_ids).is_finished:
            self.completed_at = now
        self.version += 1
        return True

    def reopen_lesson(self, lesson_id: str, lesson_ids: list[str]) -> bool:
        """Undo a completion; a course no longer finished loses its `completed_at`."""
        if lesson_id not in self.completed_lesson_ids:
            return False
        self.completed_lesson_ids.remove(lesson_id)
        if not self.progress(lesson_ids).is_finished:
            self.completed_at = None
        self.version += 1
        return True


# --- assignments ---------------------------------------------------------------------------


def assignment_title(value: str) -> str:
    return checked_text(
        value, "title", min_chars=1, max_chars=ASSIGNMENT_TITLE_MAX_CHARS, one_line=True
    )


def instructions(value: str) -> str:
    return checked_text(value, "instructions", max_chars=INSTRUCTIONS_MAX_CHARS, one_line=False)


def max_points(value: int) -> int:
    if not 1 <= value <= MAX_POINTS_LIMIT:
        raise RuleViolated(f"must be 1 to {MAX_POINTS_LIMIT}", field="max_points")
    return value


def max_files(value: int) -> int:
    if not 0 <= value <= MAX_FILES_LIMIT:
        raise RuleViolated(f"must be 0 to {MAX_FILES_LIMIT}", field="max_files")
    return value


def allowed_types(values: Iterable[str], acceptable: frozenset[str]) -> list[str]:
    """Media types a submission's files may have: a subset of what submissions accept at all;
    empty means any of those."""
    cleaned = list(dict.fromkeys(v.strip().lower() for v in values))
    unknown = [v for v in cleaned if v not in acceptable]
    if unknown:
        names = ", ".join(sorted(acceptable))
        raise RuleViolated(f"{unknown[0]} is not a submission type; use {names}", "allowed_types")
    return cleaned


SUBMISSION_TYPES = ALLOWED_TYPES[FilePurpose.SUBMISSION]


@dataclass(frozen=True, slots=True)
class AssignmentChanges(Changes):
    """What PATCH /assignments/{id} may change; None clears the due date."""

    clearable: ClassVar[frozenset[str]] = frozenset({"due_at"})

    title: str | Unset = UNSET
    instructions: str | Unset = UNSET
    due_at: datetime | Unset | None = UNSET
    max_points: int | Unset = UNSET
    allow_late: bool | Unset = UNSET
    max_files: int | Unset = UNSET
    allowed_types: Sequence[str] | Unset = UNSET


@dataclass(slots=True)
class Assignment:
    id: str
    course_id: str
    title: str
    instructions: str
    max_points: int
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None = None
    allow_late: bool = True
    max_files: int = DEFAULT_MAX_FILES
    allowed_types: list[str] = field(default_factory=list)
    version: int = 1

    def edit(
        self, now: datetime, changes: AssignmentChanges, highest_grade: float | None = None
    ) -> None:
        """Apply `changes`; `highest_grade` (given so far) is the least `max_points` may be."""
        if not isinstance(changes.title, Unset):
            self.title = assignment_title(changes.title)
        if not isinstance(changes.instructions, Unset):
            self.instructions = instructions(changes.instructions)
        if not isinstance(changes.due_at, Unset):
            self.due_at = changes.due_at
        if not isinstance(changes.max_points, Unset):
            if highest_grade is not None and changes.max_points < highest_grade:
                raise RuleViolated(
                    f"must be at least {highest_grade:g}, the highest grade given", "max_points"
                )
            self.max_points = max_points(changes.max_points)
        if not isinstance(changes.allow_late, Unset):
            self.allow_late = changes.allow_late
        if not isinstance(changes.max_files, Unset):
            self.max_files = max_files(changes.max_files)
        if not isinstance(changes.allowed_types, Unset):
            self.allowed_types = allowed_types(changes.allowed_types, SUBMISSION_TYPES)
        self.updated_at = now
        self.version += 1

    def is_late_at(self, when: datetime) -> bool:
        return self.due_at is not None and when > self.due_at

    def check_submission(self, when: datetime, file_count: int, has_text: bool) -> bool:
        """Whether a submission at `when` is late; `Conflict` when late work is refused."""
        if not has_text and file_count == 0:
            raise RuleViolated("a submission needs text or at least one file", field="text")
        if file_count > self.max_files:
            raise RuleViolated(f"at most {self.max_files} files", field="file_ids")
        late = self.is_late_at(when)
        if late and not self.allow_late:
            raise Conflict("the due date has passed and this assignment takes no late work")
        return late

    def check_points(self, points: float) -> float:
        if not 0 <= points <= self.max_points:
            raise RuleViolated(f"must be 0 to {self.max_points}", field="points")
        return round(points, 2)


def new_assignment(
    *,
    id: str,
    course_id: str,
    title_text: str,
    instructions_text: str,
    points: int,
    now: datetime,
    due_at: datetime | None = None,
    allow_late: bool = True,
    files: int = DEFAULT_MAX_FILES,
    types: list[str] | None = None,
) -> Assignment:
    return Assignment(
        id=id,
        course_id=course_id,
        title=assignment_title(title_text),
        instructions=instructions(instructions_text),
        max_points=max_points(points),
        created_at=now,
        updated_at=now,
        due_at=due_at,
        allow_late=allow_late,
        max_files=max_files(files),
        allowed_types=list(types or []),
    )


# --- submissions and grades ----------------------------------------------------------------


def submission_text(value: str | None) -> str:
    return checked_text(value or "", "text", max_chars=SUBMISSION_TEXT_MAX_CHARS, one_line=False)


def feedback(value: str | None) -> str:
    return checked_text(value or "", "feedback", max_chars=FEEDBACK_MAX_CHARS, one_line=False)


@dataclass(slots=True)
class Submission:
    """One attempt; every attempt is kept and only the latest counts (and is graded)."""

    id: str
    assignment_id: str
    course_id: str
    user_id: str
    attempt: int
    submitted_at: datetime
    late: bool
    text: str = ""
    file_ids: list[str] = field(default_factory=list)
    is_latest: bool = True
    points: float | None = None
    feedback: str = ""
    graded_at: datetime | None = None
    grader_id: str | None = None
    version: int = 1

    @property
    def is_graded(self) -> bool:
        return self.graded_at is not None

    def grade(
        self,
        assignment: Assignment,
        points: float,
        comment: str | None,
        grader_id: str,
        now: datetime,
    ) -> None:
        if not self.is_latest:
            raise Conflict("a newer attempt exists; grade the latest one")
        self.points = assignment.check_points(points)
        self.feedback = feedback(comment)
        self.graded_at = now
        self.grader_id = grader_id
        self.version += 1


@dataclass(frozen=True, slots=True)
class GradeCell:
    """What a gradebook shows for one student and one assignment."""

    assignment_id: str
    points: float | None
    late: bool
    submitted: bool


@dataclass(frozen=True, slots=True)
class GradebookRow:
    user_id: str
    cells: list[GradeCell]

    @property
    def total(self) -> float:
        return round(sum(cell.points or 0 for cell in self.cells), 2)


def gradebook_rows(
    user_ids: list[str], assignment_ids: list[str], latest: Iterable[Submission]
) -> list[GradebookRow]:
    """The students x assignments matrix from the latest attempts (missing: not submitted)."""
    by_pair = {(s.user_id, s.assignment_id): s for s in latest}
    rows = []
    for user_id in user_ids:
        cells = []
        for assignment_id in assignment_ids:
            found = by_pair.get((user_id, assignment_id))
            cells.append(
                GradeCell(
                    assignment_id,
                    found.points if found else None,
                    found.late if found else False,
                    found is not None,
                )
            )
        rows.append(GradebookRow(user_id, cells))
    return rows


# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a quote before it."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


# --- reviews -------------------------------------------------------------------------------


def rating(value: int) -> int:
    if not RATING_MIN <= value <= RATING_MAX:
        raise RuleViolated(f"must be {RATING_MIN} to {RATING_MAX}", field="rating")
    return value


def review_comment(value: str | None) -> str:
    return checked_text(value or "", "comment", max_chars=REVIEW_COMMENT_MAX_CHARS, one_line=False)


@dataclass(slots=True)
class Review:
    id: str
    course_id: str
    user_id: str
    rating: int
    comment: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def write(
        cls, *, id: str, course_id: str, user_id: str, stars: int, text: str | None, now: datetime
    ) -> Review:
        return cls(id, course_id, user_id, rating(stars), review_comment(text), now, now)

    def revise(self, stars: int, text: str | None, now: datetime) -> int:
        """Change the rating and comment; the change in rating (for the course's sum)."""
        old = self.rating
        self.rating = rating(stars)
        self.comment = review_comment(text)
        self.updated_at = now
        self.version += 1
        return self.rating - old


def rating_average(rating_sum: int, rating_count: int) -> float:
    """The course's average rating from its exact sum and count (0 without reviews)."""
    return round(rating_sum / rating_count, 4) if rating_count else 0.0
