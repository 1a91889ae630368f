"""A demo catalog for a newcomer: a few instructors and about fifty published courses with
modules and lessons, made only when the catalog is empty (so seeding twice changes nothing)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ocp.application.courses import CourseService
from ocp.application.identity import ProfileService
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.courses import CourseRepository, LessonRepository
from ocp.application.ports.identity import UserRepository
from ocp.domain.courses import Course, Lesson, LessonKind, Level
from ocp.domain.errors import Conflict
from ocp.domain.users import Role, User

# Demo accounts sign in with this password; the seed never runs with OCP_ENV=production.
DEMO_PASSWORD = "demo-password"

INSTRUCTORS = [
    ("ada.lovelace@demo.ocp.dev", "Ada Lovelace"),
    ("grace.hopper@demo.ocp.dev", "Grace Hopper"),
    ("alan.kay@demo.ocp.dev", "Alan Kay"),
    ("barbara.liskov@demo.ocp.dev", "Barbara Liskov"),
]

BEG, MID, ADV = Level.BEGINNER, Level.INTERMEDIATE, Level.ADVANCED

# title, category, level, tags
COURSES: list[tuple[str, str, Level, tuple[str, ...]]] = [
    ("Python for Absolute Beginners", "Programming", BEG, ("python", "basics")),
    ("Intermediate Python: Idioms and Patterns", "Programming", MID, ("python", "patterns")),
    ("Async Python with asyncio", "Programming", ADV, ("python", "asyncio", "concurrency")),
    ("Modern JavaScript from Scratch", "Web Development", BEG, ("javascript", "web")),
    ("TypeScript in Practice", "Web Development", MID, ("typescript", "javascript")),
    ("React Fundamentals", "Web Development", BEG, ("react", "javascript", "frontend")),
    ("Building APIs with FastAPI", "Web Development", MID, ("python", "fastapi", "api")),
    ("REST API Design That Lasts", "Software Design", MID, ("api", "rest", "design")),
    ("CSS Layout: Flexbox and Grid", "Web Development", BEG, ("css", "frontend")),
    ("Accessible Web Interfaces", "Web Development", MID, ("accessibility", "frontend")),
    ("SQL for Data Analysis", "Data", BEG, ("sql", "data")),
    ("MongoDB Schema Design", "Data", MID, ("mongodb", "databases", "design")),
    ("PostgreSQL Performance Tuning", "Data", ADV, ("postgresql", "databases", "performance")),
    ("Data Analysis with pandas", "Data Science", BEG, ("python", "pandas", "data")),
    ("Statistics for Data Science", "Data Science", MID, ("statistics", "data")),
    ("Machine Learning Foundations", "Data Science", MID, ("machine learning", "python")),
    ("Deep Learning with PyTorch", "Data Science", ADV, ("deep learning", "pytorch", "python")),
    ("Natural Language Processing Basics", "Data Science", MID, ("nlp", "machine learning")),
    ("Data Visualization That Tells a Story", "Data Science", BEG, ("visualization", "data")),
    ("Time Series Forecasting", "Data Science", ADV, ("forecasting", "statistics")),
    ("Git and GitHub Essentials", "Tools", BEG, ("git", "version control")),
    ("The Linux Command Line", "Tools", BEG, ("linux", "shell")),
    ("Docker for Developers", "DevOps", MID, ("docker", "containers")),
    ("Kubernetes in Production", "DevOps", ADV, ("kubernetes", "containers", "cloud")),
    ("Continuous Integration and Delivery", "DevOps", MID, ("ci", "cd", "automation")),
    ("Infrastructure as Code with Terraform", "DevOps", MID, ("terraform", "cloud")),
    ("Observability: Logs, Metrics and Traces", "DevOps", ADV, ("observability", "monitoring")),
    ("Cloud Architecture on AWS", "Cloud", MID, ("aws", "cloud", "architecture")),
    ("Serverless Applications", "Cloud", MID, ("serverless", "cloud")),
    ("Web Security Fundamentals", "Security", BEG, ("security", "web")),
    ("Secure Coding in Practice", "Security", MID, ("security", "owasp")),
    ("Cryptography for Engineers", "Security", ADV, ("cryptography", "security")),
    ("Algorithms and Data Structures", "Computer Science", MID, ("algorithms", "data structures")),
    ("Operating Systems Explained", "Computer Science", ADV, ("operating systems", "systems")),
    ("Computer Networks from the Ground Up", "Computer Science", MID, ("networking", "tcp")),
    ("Distributed Systems Principles", "Computer Science", ADV, ("distributed systems",)),
    ("Clean Code and Refactoring", "Software Design", MID, ("refactoring", "clean code")),
    ("Domain-Driven Design Distilled", "Software Design", ADV, ("ddd", "architecture")),
    ("Test-Driven Development", "Software Design", MID, ("testing", "tdd")),
    ("Hexagonal Architecture in Python", "Software Design", ADV, ("architecture", "python")),
    ("Rust for Systems Programmers", "Programming", ADV, ("rust", "systems")),
    ("Go for Backend Developers", "Programming", MID, ("go", "backend")),
    ("Kotlin for Android", "Mobile", MID, ("kotlin", "android")),
    ("SwiftUI Essentials", "Mobile", BEG, ("swift", "ios")),
    ("UX Research Methods", "Design", BEG, ("ux", "research")),
    ("Product Management Basics", "Business", BEG, ("product", "management")),
    ("Technical Writing for Engineers", "Communication", BEG, ("writing", "documentation")),
    ("Agile Teams and Scrum", "Business", BEG, ("agile", "scrum")),
    ("Digital Photography Fundamentals", "Creative", BEG, ("photography",)),
    ("Music Theory for Beginners", "Creative", BEG, ("music", "theory")),
]

MODULE_PLAN = [
    ("Getting started", ["Welcome and course overview", "Setting up your environment"]),
    ("Core ideas", ["The first principles", "A worked example", "Common mistakes"]),
    ("Putting it together", ["A small project", "Where to go next"]),
]


class DemoCatalog:
    def __init__(
        self,
        *,
        profiles: ProfileService,
        authoring: CourseService,
        users: UserRepository,
        courses: CourseRepository,
        lessons: LessonRepository,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._profiles = profiles
        self._authoring = authoring
        self._users = users
        self._courses = courses
        self._lessons = lessons
        self._clock = clock
        self._ids = ids

    async def seed(self) -> int:
        """Fill an empty catalog; the number of courses made (0 when there were some)."""
        if not await self._courses.is_empty():
            return 0
        teachers = [await self._instructor(email, name) for email, name in INSTRUCTORS]
        now = self._clock.now()
        for n, (title, category, level, tags) in enumerate(COURSES):
            owner = teachers[n % len(teachers)]
            published_at = now - timedelta(hours=7 * (len(COURSES) - n))
            course, lessons = self._course(owner, title, category, level, tags, published_at)
            if n % 5 == 0:  # some courses are taught by two
                course.add_instructor(teachers[(n + 1) % len(teachers)], published_at)
            await self._lessons.add_many(lessons)
            await self._authoring.store_new(course)
        return len(COURSES)

    async def _instructor(self, email: str, name: str) -> User:
        try:
            return await self._profiles.register(email, DEMO_PASSWORD, name, Role.INSTRUCTOR)
        except Conflict:
            user = await self._users.get_by_email(email)
            assert user is not None
            return user

    def _course(
        self,
        owner: User,
        title: str,
        category: str,
        level: Level,
        tags: tuple[str, ...],
        when: datetime,
    ) -> tuple[Course, list[Lesson]]:
        course = Course.create(
            id=self._ids.new_id(),
            owner=owner,
            title_text=title,
            now=when,
            summary_text=f"A practical {level.value} course: {title.lower()}, step by step.",
            description_text=(
                f"# {title}\n\nThis course takes you through {title.lower()} with short "
                "lessons, worked examples and a small project at the end.\n"
            ),
            tag_names=tags,
            level=level,
            category_name=category,
            capacity_limit=None if len(title) % 3 else 200,
        )
        lessons: list[Lesson] = []
        for module_title, lesson_titles in MODULE_PLAN:
            module = course.add_module(self._ids.new_id(), module_title, "", when)
            for position, lesson_title in enumerate(lesson_titles):
                lesson = Lesson.write(
                    id=self._ids.new_id(),
                    course_id=course.id,
                    module_id=module.id,
                    title_text=lesson_title,
                    kind=LessonKind.TEXT,
                    now=when,
                    body_markdown=f"## {lesson_title}\n\nIn this lesson of *{title}* we ...\n",
                    duration_s=300 + 120 * position,
                    is_preview=not lessons,
                )
                course.add_lesson(module.id, lesson.outline, when)
                lessons.append(lesson)
        course.publish(when)
        return course, lessons
