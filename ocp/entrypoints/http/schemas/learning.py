"""Learning schemas: enrollments and progress, bulk enrollment (JSON or CSV), reviews,
assignments, submissions, grades and the gradebook (JSON or CSV)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from ocp.application.learning import (
    BulkReport,
    CourseEnrollment,
    Gradebook,
    GradebookExport,
    MyGrade,
    ProgressReport,
    RosterEntry,
)
from ocp.domain.errors import RuleViolated
from ocp.domain.files import ALLOWED_TYPES, FilePurpose
from ocp.domain.learning import (
    ASSIGNMENT_TITLE_MAX_CHARS,
    BULK_JOB_ROWS_MAX,
    DEFAULT_MAX_FILES,
    FEEDBACK_MAX_CHARS,
    INSTRUCTIONS_MAX_CHARS,
    MAX_FILES_LIMIT,
    MAX_POINTS_LIMIT,
    RATING_MAX,
    RATING_MIN,
    REVIEW_COMMENT_MAX_CHARS,
    SUBMISSION_TEXT_MAX_CHARS,
    Assignment,
    Enrollment,
    Progress,
    Review,
    Submission,
    spreadsheet_safe,
)
from ocp.domain.users import EMAIL_MAX_CHARS, User
from ocp.entrypoints.http.schemas.common import PLAIN_TEXT, Input, WholeNumber

Id = Annotated[str, Field(min_length=1, max_length=64)]
# The types a submission's files may be limited to, as the document lists them; the server
# also takes them in another case or with spaces around (media types are case-insensitive).
MediaType = Annotated[
    str,
    Field(
        min_length=1,
        max_length=127,
        json_schema_extra={"enum": sorted(ALLOWED_TYPES[FilePurpose.SUBMISSION])},
    ),
]
MaxPoints = Annotated[int, Field(ge=1, le=MAX_POINTS_LIMIT), WholeNumber]
MaxFiles = Annotated[
    int, Field(ge=0, le=MAX_FILES_LIMIT, description="files per attempt"), WholeNumber
]

# --- enrollment ----------------------------------------------------------------------------


class ProgressOut(BaseModel):
    completed: int = Field(description="lessons of the course, as it is now, marked complete")
    total: int = Field(description="lessons the course has now")
    percent: int = Field(description="whole percent, 100 only when every lesson is complete")

    @classmethod
    def from_domain(cls, progress: Progress) -> ProgressOut:
        return cls(completed=progress.completed, total=progress.total, percent=progress.percent)


class EnrollmentOut(BaseModel):
    id: str
    course_id: str
    user_id: str
    enrolled_at: datetime
    progress: ProgressOut
    completed_at: datetime | None = Field(description="when the last lesson was completed")

    @classmethod
    def from_domain(cls, enrollment: Enrollment, progress: Progress) -> EnrollmentOut:
        return cls(
            id=enrollment.id,
            course_id=enrollment.course_id,
            user_id=enrollment.user_id,
            enrolled_at=enrollment.enrolled_at,
            progress=ProgressOut.from_domain(progress),
            completed_at=enrollment.completed_at,
        )


class StudentOut(BaseModel):
    id: str
    full_name: str
    email: str

    @classmethod
    def from_domain(cls, user: User | None, user_id: str) -> StudentOut:
        if user is None:  # the account is gone; the enrollment still shows
            return cls(id=user_id, full_name="", email="")
        return cls(id=user.id, full_name=user.full_name, email=user.email.value)


class RosterItemOut(EnrollmentOut):
    user: StudentOut

    @classmethod
    def from_entry(cls, entry: RosterEntry) -> RosterItemOut:
        e = entry.enrollment
        return cls(
            **EnrollmentOut.from_domain(e, entry.progress).model_dump(),
            user=StudentOut.from_domain(entry.user, e.user_id),
        )


class CourseCardOut(BaseModel):
    id: str
    slug: str
    title: str


class MyEnrollmentOut(EnrollmentOut):
    course: CourseCardOut | None = Field(description="null when the course was removed")

    @classmethod
    def from_entry(cls, entry: CourseEnrollment) -> MyEnrollmentOut:
        card = entry.course
        return cls(
            **EnrollmentOut.from_domain(entry.enrollment, entry.progress).model_dump(),
            course=CourseCardOut(id=card.id, slug=card.slug, title=card.title) if card else None,
        )


class CourseProgressOut(BaseModel):
    completed_lesson_ids: list[str] = Field(description="in the course's lesson order")
    completed: int
    total: int
    percent: int
    completed_at: datetime | None

    @classmethod
    def from_domain(cls, report: ProgressReport) -> CourseProgressOut:
        return cls(
            completed_lesson_ids=report.completed_lesson_ids,
            completed=report.progress.completed,
            total=report.progress.total,
            percent=report.progress.percent,
            completed_at=report.enrollment.completed_at,
        )


class BulkEnrollIn(Input):
    emails: list[Annotated[str, Field(max_length=EMAIL_MAX_CHARS)]] = Field(
        max_length=BULK_JOB_ROWS_MAX,
        description=f"at most {BULK_JOB_ROWS_MAX} addresses; over OCP_BULK_SYNC_MAX, a job",
    )


class BulkReportOut(BaseModel):
    enrolled: int = Field(description="students enrolled by this request")
    already: int = Field(description="students who were enrolled before")
    unknown: list[str] = Field(description="addresses that name no account (or no address)")
    full: list[str] = Field(description="students left out because the course was full")
    not_student: list[str] = Field(
        description="addresses of instructors, admins or the course's staff: enrollment is for "
        "students, so they take no seat"
    )

    @classmethod
    def from_domain(cls, report: BulkReport) -> BulkReportOut:
        return cls(
            enrolled=report.enrolled,
            already=report.already,
            unknown=report.unknown,
            full=report.full,
            not_student=report.not_student,
        )


def emails_from_csv(content: bytes) -> list[str]:
    """The addresses of an uploaded CSV: the first cell of each row, an `email` header row
    skipped, blank rows ignored; at most `BULK_JOB_ROWS_MAX` rows."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolated("the CSV file must be UTF-8 text", field="file") from None
    emails: list[str] = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text))):
            cell = row[0].strip() if row else ""
            if not cell or (number == 0 and cell.lower() == "email"):
                continue
            if len(emails) == BULK_JOB_ROWS_MAX:
                raise RuleViolated(f"at most {BULK_JOB_ROWS_MAX} rows", field="file")
            emails.append(cell[: EMAIL_MAX_CHARS + 1])
    except csv.Error:
        raise RuleViolated("the file is not valid CSV", field="file") from None
    return emails


# --- reviews -------------------------------------------------------------------------------


class ReviewIn(Input):
    rating: Annotated[int, Field(ge=RATING_MIN, le=RATING_MAX), WholeNumber]
    comment: str | None = Field(None, max_length=REVIEW_COMMENT_MAX_CHARS, pattern=PLAIN_TEXT)


class ReviewOut(BaseModel):
    id: str
    course_id: str
    user_id: str
    rating: int
    comment: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, review: Review) -> ReviewOut:
        return cls(
            id=review.id,
            course_id=review.course_id,
            user_id=review.user_id,
            rating=review.rating,
            comment=review.comment,
            created_at=review.created_at,
            updated_at=review.updated_at,
        )


# --- assignments ---------------------------------------------------------------------------


class AssignmentIn(Input):
    title: str = Field(min_length=1, max_length=ASSIGNMENT_TITLE_MAX_CHARS, pattern=PLAIN_TEXT)
    instructions: str = Field("", max_length=INSTRUCTIONS_MAX_CHARS, pattern=PLAIN_TEXT)
    due_at: AwareDatetime | None = Field(None, strict=False, description="ISO-8601 with a zone")
    max_points: MaxPoints
    allow_late: bool = Field(True, description="false: submissions after due_at get 409")
    max_files: MaxFiles = DEFAULT_MAX_FILES
    allowed_types: list[MediaType] = Field(
        default_factory=list,
        max_length=20,
        description="media types a file may have (decided from its content); empty: any "
        "type submissions accept",
    )


class AssignmentPatchIn(Input):
    title: str | None = Field(
        None, min_length=1, max_length=ASSIGNMENT_TITLE_MAX_CHARS, pattern=PLAIN_TEXT
    )
    instructions: str | None = Field(None, max_length=INSTRUCTIONS_MAX_CHARS, pattern=PLAIN_TEXT)
    due_at: AwareDatetime | None = Field(None, strict=False, description="null removes it")
    max_points: MaxPoints | None = None
    allow_late: bool | None = None
    max_files: MaxFiles | None = None
    allowed_types: list[MediaType] | None = Field(None, max_length=20)


class AssignmentOut(BaseModel):
    id: str
    course_id: str
    title: str
    instructions: str
    due_at: datetime | None
    max_points: int
    allow_late: bool
    max_files: int
    allowed_types: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, a: Assignment) -> AssignmentOut:
        return cls(
            id=a.id,
            course_id=a.course_id,
            title=a.title,
            instructions=a.instructions,
            due_at=a.due_at,
            max_points=a.max_points,
            allow_late=a.allow_late,
            max_files=a.max_files,
            allowed_types=list(a.allowed_types),
            created_at=a.created_at,
            updated_at=a.updated_at,
        )


class SubmissionIn(Input):
    text: str | None = Field(None, max_length=SUBMISSION_TEXT_MAX_CHARS, pattern=PLAIN_TEXT)
    file_ids: list[Id] = Field(
        default_factory=list,
        max_length=MAX_FILES_LIMIT,
        description="your own files of purpose submission, uploaded for this course",
    )


class SubmissionOut(BaseModel):
    id: str
    assignment_id: str
    course_id: str
    user_id: str
    attempt: int
    submitted_at: datetime
    late: bool
    text: str
    file_ids: list[str]
    is_latest: bool
    points: float | None = Field(description="null until graded")
    feedback: str
    graded_at: datetime | None

    @classmethod
    def from_domain(cls, s: Submission) -> SubmissionOut:
        return cls(
            id=s.id,
            assignment_id=s.assignment_id,
            course_id=s.course_id,
            user_id=s.user_id,
            attempt=s.attempt,
            submitted_at=s.submitted_at,
            late=s.late,
            text=s.text,
            file_ids=list(s.file_ids),
            is_latest=s.is_latest,
            points=s.points,
            feedback=s.feedback,
            graded_at=s.graded_at,
        )


class GradeIn(Input):
    points: float = Field(ge=0, description="0 to the assignment's max_points")
    feedback: str | None = Field(None, max_length=FEEDBACK_MAX_CHARS, pattern=PLAIN_TEXT)


class MyGradeOut(BaseModel):
    assignment_id: str
    title: str
    max_points: int
    points: float | None = Field(description="null until the latest attempt is graded")
    feedback: str
    graded_at: datetime | None
    late: bool

    @classmethod
    def from_domain(cls, grade: MyGrade) -> MyGradeOut:
        s = grade.submission
        return cls(
            assignment_id=grade.assignment.id,
            title=grade.assignment.title,
            max_points=grade.assignment.max_points,
            points=s.points if s else None,
            feedback=s.feedback if s else "",
            graded_at=s.graded_at if s else None,
            late=s.late if s else False,
        )


class MyGradesOut(BaseModel):
    items: list[MyGradeOut]


class GradebookAssignmentOut(BaseModel):
    id: str
    title: str
    max_points: int
    due_at: datetime | None


class GradeCellOut(BaseModel):
    assignment_id: str
    points: float | None = Field(description="null when not submitted or not graded yet")
    submitted: bool
    late: bool


class GradebookRowOut(BaseModel):
    user: StudentOut
    grades: list[GradeCellOut] = Field(description="one per assignment, in `assignments` order")
    total: float


class GradebookOut(BaseModel):
    """A page of students (in enrollment order) with the assignment columns they fill."""

    course_id: str
    assignments: list[GradebookAssignmentOut] = Field(description="every assignment, the columns")
    items: list[GradebookRowOut] = Field(description="this page's students")
    next_cursor: str | None = Field(description="the next page's `cursor`; null on the last")

    @classmethod
    def from_domain(cls, book: Gradebook) -> GradebookOut:
        return cls(
            course_id=book.course.id,
            assignments=[
                GradebookAssignmentOut(
                    id=a.id, title=a.title, max_points=a.max_points, due_at=a.due_at
                )
                for a in book.assignments
            ],
            items=[
                GradebookRowOut(
                    user=StudentOut.from_domain(book.users.get(row.user_id), row.user_id),
                    grades=[
                        GradeCellOut(
                            assignment_id=c.assignment_id,
                            points=c.points,
                            submitted=c.submitted,
                            late=c.late,
                        )
                        for c in row.cells
                    ],
                    total=row.total,
                )
                for row in book.rows
            ],
            next_cursor=book.next_cursor,
        )


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


async def gradebook_csv(export: GradebookExport) -> AsyncIterator[str]:
    """One row per student, one column per assignment (its points, empty when not graded),
    and the total, yielded a page of students at a time so the whole book is never held.
    Every text cell is neutralised against spreadsheet formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "user_id",
            "full_name",
            "email",
            *(spreadsheet_safe(f"{a.title} (/{a.max_points})") for a in export.assignments),
            "total",
        ]
    )
    yield _drain(out)
    async for book in export.pages:
        for row in book.rows:
            user = book.users.get(row.user_id)
            writer.writerow(
                [
                    spreadsheet_safe(row.user_id),
                    spreadsheet_safe(user.full_name if user else ""),
                    spreadsheet_safe(user.email.value if user else ""),
                    *(_number(cell.points) for cell in row.cells),
                    _number(row.total),
                ]
            )
        yield _drain(out)


def _drain(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text
