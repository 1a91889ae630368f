"""Course use cases: authoring courses, modules and lessons, the catalog, lesson access."""

from ocp.application.courses.commands import (
    COURSE_COVER,
    LESSON_MATERIAL,
    CatalogFilter,
    CourseChanges,
    CourseDraft,
    LessonChanges,
    LessonDraft,
    NoCourseFiles,
)
from ocp.application.courses.service import CourseService

__all__ = [
    "COURSE_COVER",
    "LESSON_MATERIAL",
    "CatalogFilter",
    "CourseChanges",
    "CourseDraft",
    "CourseService",
    "LessonChanges",
    "LessonDraft",
    "NoCourseFiles",
]
