"""The course aggregate: lifecycle, who is staff, and its outline of modules and lessons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import ClassVar

from ocp.domain.changes import UNSET, Changes, Unset
from ocp.domain.courses.lessons import LessonOutline, Module
from ocp.domain.courses.values import (
    CO_INSTRUCTORS_MAX,
    LESSONS_PER_MODULE_MAX,
    MODULES_MAX,
    CourseStatus,
    Level,
    capacity,
    category,
    description,
    permutation,
    slugify,
    summary,
    tags,
    title,
)
from ocp.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolated
from ocp.domain.users import Role, User


@dataclass(frozen=True, slots=True)
class CourseChanges(Changes):
    """What PATCH /courses/{id} may change; None clears the capacity or the cover."""

    clearable: ClassVar[frozenset[str]] = frozenset({"capacity", "cover_file_id"})

    title: str | Unset = UNSET
    summary: str | Unset = UNSET
    description: str | Unset = UNSET
    tags: Sequence[str] | Unset = UNSET
    level: Level | Unset = UNSET
    category: str | Unset = UNSET
    capacity: int | Unset | None = UNSET
    cover_file_id: str | Unset | None = UNSET


class CourseRelation(IntEnum):
    """How a user stands to a course, ordered: each level may do what the ones below may."""

    NONE = 0  # no such course, or a course this user may not see
    VISITOR = 1  # the course is published
    STUDENT = 2  # enrolled, while the course is published
    STAFF = 3  # owner, co-instructor or admin


@dataclass(slots=True)
class Course:
    id: str
    slug: str
    title: str
    owner_id: str
    created_at: datetime
    updated_at: datetime
    summary: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    level: Level = Level.BEGINNER
    category: str = ""
    status: CourseStatus = CourseStatus.DRAFT
    instructor_ids: list[str] = field(default_factory=list)  # co-instructors, not the owner
    capacity: int | None = None
    enrolled_count: int = 0
    rating_avg: float = 0.0
    rating_count: int = 0
    rating_sum: int = 0  # exact sum of review ratings; rating_avg derives from it
    cover_file_id: str | None = None
    published_at: datetime | None = None
    modules: list[Module] = field(default_factory=list)
    version: int = 1

    @classmethod
    def create(
        cls,
        *,
        id: str,
        owner: User,
        title_text: str,
        now: datetime,
        summary_text: str = "",
        description_text: str = "",
        tag_names: Iterable[str] = (),
        level: Level = Level.BEGINNER,
        category_name: str = "",
        capacity_limit: int | None = None,
    ) -> Course:
        if not owner.can_teach:
            raise PermissionDenied("only instructors and admins create courses")
        name = title(title_text)
        return cls(
            id=id,
            slug=slugify(name),
            title=name,
            owner_id=owner.id,
            created_at=now,
            updated_at=now,
            summary=summary(summary_text),
            description=description(description_text),
            tags=tags(tag_names),
            level=level,
            category=category(category_name),
            capacity=capacity(capacity_limit),
        )

    # --- who ---------------------------------------------------------------------------

    @property
    def staff_ids(self) -> list[str]:
        return [self.owner_id, *self.instructor_ids]

    def is_staff(self, user: User | None) -> bool:
        """An admin, or the owner or a co-instructor who holds the instructor role *now*: an
        instructor demoted to student keeps their courses (owned, listed) but none of their
        powers until re-promoted or the course is handed over."""
        return user is not None and (
            user.is_admin or (user.role is Role.INSTRUCTOR and user.id in self.staff_ids)
        )

    def is_owner_or_admin(self, user: User | None) -> bool:
        return user is not None and (
            user.is_admin or (user.role is Role.INSTRUCTOR and user.id == self.owner_id)
        )

    def excluded_as_student(self, user: User) -> bool:
        """Who never takes a seat in this course, reviews or submits to it: an admin, its owner
        or a co-instructor *whatever role they hold now*. Not a power (that is `is_staff`): a
        demoted owner loses their powers but must not turn into their own course's student."""
        return user.is_admin or user.id in self.staff_ids

    def relation_of(self, user: User | None, *, enrolled: bool) -> CourseRelation:
        """How `user` (`enrolled` in it or not) stands to this course."""
        if self.is_staff(user):
            return CourseRelation.STAFF
        if enrolled and user is not None and self.lessons_open_to_students:
            return CourseRelation.STUDENT
        if self.is_visible_to(user):
            return CourseRelation.VISITOR
        return CourseRelation.NONE

    def is_visible_to(self, user: User | None) -> bool:
        return self.status is CourseStatus.PUBLISHED or self.is_staff(user)

    @property
    def lessons_open_to_students(self) -> bool:
        """Enrolled students read every lesson and its material only while the course is
        published: a draft or archived course is hidden from all but its staff."""
        return self.status is CourseStatus.PUBLISHED

    def require_open_to_students(self, *, change: bool) -> None:
        """The one rule for an enrolled student while the course is not published: they may
        read their own progress, grades and submissions (the use cases serving those do not
        ask), and nothing else: course content is not found (404), a change a conflict (409)."""
        if self.lessons_open_to_students:
            return
        if change:
            raise Conflict("the course is not published: nothing in it can be changed now")
        raise NotFound("no such course")

    def require_staff(self, user: User | None) -> None:
        """Staff pass; others get NotFound for a course they cannot see, else PermissionDenied."""
        if self.is_staff(user):
            return
        if not self.is_visible_to(user):
            raise NotFound("no such course")
        raise PermissionDenied("only the course staff may do this")

    def require_owner(self, user: User | None) -> None:
        self.require_staff(user)
        if not self.is_owner_or_admin(user):
            raise PermissionDenied("only the course owner or an admin may do this")

    # --- edits and lifecycle -----------------------------------------------------------

    def touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1

    def edit(self, now: datetime, changes: CourseChanges) -> None:
        """Edit the course's own fields; the slug stays, so shared links keep working."""
        if not isinstance(changes.title, Unset):
            self.title = title(changes.title)
        if not isinstance(changes.summary, Unset):
            self.summary = summary(changes.summary)
        if not isinstance(changes.description, Unset):
            self.description = description(changes.description)
        if not isinstance(changes.tags, Unset):
            self.tags = tags(changes.tags)
        if not isinstance(changes.level, Unset):
            self.level = changes.level
        if not isinstance(changes.category, Unset):
            self.category = category(changes.category)
        wanted = changes.capacity
        if not isinstance(wanted, Unset):
            if capacity(wanted) is not None and wanted is not None and wanted < self.enrolled_count:
                raise RuleViolated(
                    f"must be at least the {self.enrolled_count} students already enrolled",
                    field="capacity",
                )
            self.capacity = wanted
        if not isinstance(changes.cover_file_id, Unset):
            self.cover_file_id = changes.cover_file_id
        self.touch(now)

    @property
    def lesson_count(self) -> int:
        return sum(len(module.lessons) for module in self.modules)

    def publish(self, now: datetime) -> None:
        if self.status is CourseStatus.PUBLISHED:
            return
        if self.status is not CourseStatus.DRAFT:
            raise Conflict(f"an {self.status.value} course cannot be published")
        if self.lesson_count == 0:
            raise Conflict("a course needs at least one lesson before it is published")
        self.status = CourseStatus.PUBLISHED
        self.published_at = now
        self.touch(now)

    def unpublish(self, now: datetime) -> None:
        if self.status is CourseStatus.DRAFT:
            return
        if self.status is not CourseStatus.PUBLISHED:
            raise Conflict(f"an {self.status.value} course cannot go back to draft")
        self.status = CourseStatus.DRAFT
        self.touch(now)

    def archive(self, now: datetime) -> None:
        if self.status is CourseStatus.ARCHIVED:
            return
        if self.status is not CourseStatus.PUBLISHED:
            raise Conflict("only a published course can be archived")
        self.status = CourseStatus.ARCHIVED
        self.touch(now)

    def check_deletable(self, has_enrollments: bool) -> None:
        if self.status is not CourseStatus.DRAFT:
            raise Conflict("only a draft course can be deleted; archive it instead")
        if has_enrollments:
            raise Conflict("a course with enrollments cannot be deleted")

    def add_instructor(self, user: User, now: datetime) -> None:
        if user.role is not Role.INSTRUCTOR:
            raise RuleViolated("a co-instructor must have the instructor role", field="user_id")
        if user.id in self.staff_ids:
            return
        if len(self.instructor_ids) >= CO_INSTRUCTORS_MAX:
            raise RuleViolated(f"at most {CO_INSTRUCTORS_MAX} co-instructors", field="user_id")
        self.instructor_ids.append(user.id)
        self.touch(now)

    def remove_instructor(self, user_id: str, now: datetime) -> None:
        if user_id in self.instructor_ids:
            self.instructor_ids.remove(user_id)
            self.touch(now)

    # --- modules and lessons -----------------------------------------------------------

    def module(self, module_id: str) -> Module:
        found = next((m for m in self.modules if m.id == module_id), None)
        if found is None:
            raise NotFound("no such module in this course")
        return found

    def position_of(self, module: Module) -> int:
        return self.modules.index(module) + 1

    def add_module(
        self, module_id: str, title_text: str, summary_text: str, now: datetime
    ) -> Module:
        if len(self.modules) >= MODULES_MAX:
            raise RuleViolated(f"a course holds at most {MODULES_MAX} modules", field="title")
        module = Module(module_id, title(title_text), summary(summary_text))
        self.modules.append(module)
        self.touch(now)
        return module

    def edit_module(
        self, module_id: str, now: datetime, *, title_text: str | None, summary_text: str | None
    ) -> Module:
        module = self.module(module_id)
        if title_text is not None:
            module.title = title(title_text)
        if summary_text is not None:
            module.summary = summary(summary_text)
        self.touch(now)
        return module

    def remove_module(self, module_id: str, now: datetime) -> list[str]:
        """Drop a module; the ids of the lessons that went with it."""
        module = self.module(module_id)
        self.modules.remove(module)
        self.touch(now)
        return [lesson.id for lesson in module.lessons]

    def restore_module(self, module: Module, position: int, now: datetime) -> None:
        """Put a deleted module back where it stood (or last, if there are fewer now)."""
        if len(self.modules) >= MODULES_MAX:
            raise Conflict(f"the course holds {MODULES_MAX} modules already")
        self.modules.insert(min(position, len(self.modules)), module)
        self.touch(now)

    def reorder_modules(self, module_ids: list[str], now: datetime) -> None:
        permutation([m.id for m in self.modules], module_ids, "module_ids")
        by_id = {m.id: m for m in self.modules}
        self.modules = [by_id[i] for i in module_ids]
        self.touch(now)

    def add_lesson(self, module_id: str, lesson: LessonOutline, now: datetime) -> None:
        module = self.module(module_id)
        if len(module.lessons) >= LESSONS_PER_MODULE_MAX:
            raise RuleViolated(
                f"a module holds at most {LESSONS_PER_MODULE_MAX} lessons", field="title"
            )
        module.lessons.append(lesson)
        self.touch(now)

    @property
    def lesson_ids(self) -> list[str]:
        """The course's lessons now, in outline order."""
        return [lesson.id for module in self.modules for lesson in module.lessons]

    def restore_lesson(
        self, module_id: str, lesson: LessonOutline, position: int, now: datetime
    ) -> None:
        """Put a deleted lesson back where it stood in its module (or last, if it has fewer)."""
        module = self.module(module_id)
        if len(module.lessons) >= LESSONS_PER_MODULE_MAX:
            raise Conflict(f"its module holds {LESSONS_PER_MODULE_MAX} lessons already")
        module.lessons.insert(min(position, len(module.lessons)), lesson)
        self.touch(now)

    def find_lesson(self, lesson_id: str) -> tuple[Module, LessonOutline] | None:
        for module in self.modules:
            lesson = module.lesson(lesson_id)
            if lesson is not None:
                return module, lesson
        return None

    def replace_lesson_outline(self, outline: LessonOutline, now: datetime) -> None:
        found = self.find_lesson(outline.id)
        if found is None:
            raise NotFound("no such lesson")
        module, old = found
        module.lessons[module.lessons.index(old)] = outline
        self.touch(now)

    def remove_lesson(self, lesson_id: str, now: datetime) -> None:
        found = self.find_lesson(lesson_id)
        if found is None:
            raise NotFound("no such lesson")
        module, lesson = found
        module.lessons.remove(lesson)
        self.touch(now)

    def reorder_lessons(self, module_id: str, lesson_ids: list[str], now: datetime) -> Module:
        module = self.module(module_id)
        permutation([lesson.id for lesson in module.lessons], lesson_ids, "lesson_ids")
        by_id = {lesson.id: lesson for lesson in module.lessons}
        module.lessons = [by_id[i] for i in lesson_ids]
        self.touch(now)
        return module
