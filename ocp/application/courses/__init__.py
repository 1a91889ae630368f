"""Course use cases: a course's own fields and lifecycle (`CourseService`), its outline of
modules and lessons (`OutlineService`), and the catalog (`CatalogService`)."""

from ocp.application.courses.catalog import CatalogService
from ocp.application.courses.commands import CourseDraft, LessonDraft
from ocp.application.courses.courses import CourseService
from ocp.application.courses.outline import OutlineService

__all__ = ["CatalogService", "CourseDraft", "CourseService", "LessonDraft", "OutlineService"]
