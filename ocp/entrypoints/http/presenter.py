"""The `data` of an event: the resource as its own route shows it, through the same schemas,
so that a webhook receiver and a REST client read one shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ocp.application.learning.enrollment import ProgressReport
from ocp.domain.courses import Course
from ocp.domain.files import StoredFile
from ocp.domain.learning import Review, Submission
from ocp.domain.users import User
from ocp.entrypoints.http.schemas.courses import CourseOut
from ocp.entrypoints.http.schemas.files import FileOut
from ocp.entrypoints.http.schemas.learning import EnrollmentOut, ReviewOut, SubmissionOut
from ocp.entrypoints.http.schemas.users import UserOut


class SchemaPresenter:
    def present(self, resource: object) -> dict[str, Any]:
        shown: BaseModel
        if isinstance(resource, dict):
            return dict(resource)
        if isinstance(resource, User):
            shown = UserOut.from_domain(resource)
        elif isinstance(resource, Course):
            shown = CourseOut.from_domain(resource)
        elif isinstance(resource, ProgressReport):
            shown = EnrollmentOut.from_domain(resource.enrollment, resource.progress)
        elif isinstance(resource, Submission):
            shown = SubmissionOut.from_domain(resource)
        elif isinstance(resource, Review):
            shown = ReviewOut.from_domain(resource)
        elif isinstance(resource, StoredFile):
            shown = FileOut.from_domain(resource)
        else:
            raise TypeError(f"no event shape for {type(resource).__name__}")
        return shown.model_dump(mode="json")
