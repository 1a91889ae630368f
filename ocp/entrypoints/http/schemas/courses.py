"""Course schemas: courses, their modules and lesson outlines, and full lessons."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, Strict

from ocp.domain.courses import (
    CAPACITY_MAX,
    CATEGORY_MAX_CHARS,
    DESCRIPTION_MAX_CHARS,
    DURATION_MAX_S,
    LESSON_BODY_MAX_CHARS,
    LESSONS_PER_MODULE_MAX,
    MODULES_MAX,
    SUMMARY_MAX_CHARS,
    TAG_MAX_CHARS,
    TAGS_MAX,
    TITLE_MAX_CHARS,
    Course,
    CourseStatus,
    Lesson,
    LessonKind,
    Level,
    Module,
)
from ocp.entrypoints.http.schemas.common import PLAIN_TEXT, Input, WholeNumber

Id = Annotated[str, Field(min_length=1, max_length=64)]
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX_CHARS, pattern=PLAIN_TEXT)]
Summary = Annotated[str, Field(max_length=SUMMARY_MAX_CHARS, pattern=PLAIN_TEXT)]
Tag = Annotated[str, Field(min_length=1, max_length=TAG_MAX_CHARS, pattern=PLAIN_TEXT)]
Capacity = Annotated[
    int, Field(ge=1, le=CAPACITY_MAX, description="seats; null: no limit"), WholeNumber
]
Duration = Annotated[int, Field(ge=0, le=DURATION_MAX_S, description="seconds"), WholeNumber]
Body = Annotated[str, Field(max_length=LESSON_BODY_MAX_CHARS, description="Markdown")]
# A JSON string names an enum member; strict mode would want the Python member itself.
LevelIn = Annotated[Level, Strict(False)]
KindIn = Annotated[LessonKind, Strict(False)]


class CourseIn(Input):
    title: Title
    summary: Summary = ""
    description: str = Field(
        "", max_length=DESCRIPTION_MAX_CHARS, pattern=PLAIN_TEXT, description="Markdown"
    )
    tags: list[Tag] = Field(default_factory=list, max_length=TAGS_MAX)
    level: LevelIn = Level.BEGINNER
    category: str = Field("", max_length=CATEGORY_MAX_CHARS, pattern=PLAIN_TEXT)
    capacity: Capacity | None = None


class CoursePatchIn(Input):
    """The course's own fields; status, owner, counts and ratings change through their own
    routes and use cases, never here."""

    title: Title | None = None
    summary: Summary | None = None
    description: str | None = Field(None, max_length=DESCRIPTION_MAX_CHARS, pattern=PLAIN_TEXT)
    tags: list[Tag] | None = Field(None, max_length=TAGS_MAX)
    level: LevelIn | None = None
    category: str | None = Field(None, max_length=CATEGORY_MAX_CHARS, pattern=PLAIN_TEXT)
    capacity: Capacity | None = None
    cover_file_id: Id | None = Field(
        None, description="one of your images uploaded as course_cover; null removes it"
    )


class CourseOut(BaseModel):
    id: str
    slug: str
    title: str
    summary: str
    description: str
    tags: list[str]
    level: Level
    category: str
    status: CourseStatus
    owner_id: str
    instructor_ids: list[str] = Field(description="co-instructors (the owner is not listed)")
    capacity: int | None
    enrolled_count: int
    rating_avg: float
    rating_count: int
    cover_file_id: str | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None

    @classmethod
    def from_domain(cls, course: Course) -> CourseOut:
        return cls(
            id=course.id,
            slug=course.slug,
            title=course.title,
            summary=course.summary,
            description=course.description,
            tags=list(course.tags),
            level=course.level,
            category=course.category,
            status=course.status,
            owner_id=course.owner_id,
            instructor_ids=list(course.instructor_ids),
            capacity=course.capacity,
            enrolled_count=course.enrolled_count,
            rating_avg=course.rating_avg,
            rating_count=course.rating_count,
            cover_file_id=course.cover_file_id,
            created_at=course.created_at,
            updated_at=course.updated_at,
            published_at=course.published_at,
        )


class ModuleIn(Input):
    title: Title
    summary: Summary = ""


class ModulePatchIn(Input):
    title: Title | None = None
    summary: Summary | None = None


class ModuleOrderIn(Input):
    module_ids: list[Id] = Field(max_length=MODULES_MAX, description="every module id, in order")


class LessonOrderIn(Input):
    lesson_ids: list[Id] = Field(
        max_length=LESSONS_PER_MODULE_MAX, description="every lesson id of the module, in order"
    )


class LessonOutlineOut(BaseModel):
    id: str
    title: str
    kind: LessonKind
    position: int = Field(description="1 for the module's first lesson")
    is_preview: bool
    duration_s: int | None


class ModuleOut(BaseModel):
    id: str
    title: str
    summary: str
    position: int = Field(description="1 for the course's first module")
    lessons: list[LessonOutlineOut]

    @classmethod
    def from_domain(cls, module: Module, position: int) -> ModuleOut:
        return cls(
            id=module.id,
            title=module.title,
            summary=module.summary,
            position=position,
            lessons=[
                LessonOutlineOut(
                    id=lesson.id,
                    title=lesson.title,
                    kind=lesson.kind,
                    position=n,
                    is_preview=lesson.is_preview,
                    duration_s=lesson.duration_s,
                )
                for n, lesson in enumerate(module.lessons, start=1)
            ],
        )

    @classmethod
    def outline(cls, course: Course) -> list[ModuleOut]:
        return [cls.from_domain(m, n) for n, m in enumerate(course.modules, start=1)]


class LessonIn(Input):
    title: Title
    kind: KindIn
    body_markdown: Body = ""
    file_id: Id | None = Field(
        None, description="video or file lessons: your file uploaded as lesson_material"
    )
    duration_s: Duration | None = None
    is_preview: bool = Field(False, description="anyone may open a preview lesson")


class LessonPatchIn(Input):
    title: Title | None = None
    kind: KindIn | None = None
    body_markdown: Body | None = None
    file_id: Id | None = Field(None, description="null detaches the file")
    duration_s: Duration | None = None
    is_preview: bool | None = None


class LessonOut(BaseModel):
    id: str
    course_id: str
    module_id: str
    title: str
    kind: LessonKind
    body_markdown: str
    file_id: str | None
    duration_s: int | None
    is_preview: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, lesson: Lesson) -> LessonOut:
        return cls(
            id=lesson.id,
            course_id=lesson.course_id,
            module_id=lesson.module_id,
            title=lesson.title,
            kind=lesson.kind,
            body_markdown=lesson.body_markdown,
            file_id=lesson.file_id,
            duration_s=lesson.duration_s,
            is_preview=lesson.is_preview,
            created_at=lesson.created_at,
            updated_at=lesson.updated_at,
        )
