"""Learning use cases: enrollment and progress, assignments and submissions, grades, reviews."""

from ocp.application.learning.assignments import (
    AssignmentDraft,
    AssignmentService,
    SubmissionDraft,
)
from ocp.application.learning.enrollment import BulkReport, EnrollmentService, ProgressReport
from ocp.application.learning.grades import Gradebook, GradebookExport, GradebookService, MyGrade
from ocp.application.learning.progress import CourseEnrollment, ProgressService, RosterEntry
from ocp.application.learning.reviews import ReviewService

__all__ = [
    "AssignmentDraft",
    "AssignmentService",
    "BulkReport",
    "CourseEnrollment",
    "EnrollmentService",
    "Gradebook",
    "GradebookExport",
    "GradebookService",
    "MyGrade",
    "ProgressReport",
    "ProgressService",
    "ReviewService",
    "RosterEntry",
    "SubmissionDraft",
]
