"""Learning use cases: enrollment and progress, assignments and grading, reviews."""

from ocp.application.learning.assignments import (
    AssignmentChanges,
    AssignmentDraft,
    AssignmentService,
    Gradebook,
    GradebookExport,
    GradedSubmissionFiles,
    MyGrade,
    SubmissionDraft,
    SubmissionFiles,
)
from ocp.application.learning.enrollment import (
    BulkReport,
    CourseEnrollment,
    EnrollmentService,
    ProgressReport,
    RosterEntry,
)
from ocp.application.learning.reviews import ReviewService

__all__ = [
    "AssignmentChanges",
    "AssignmentDraft",
    "AssignmentService",
    "BulkReport",
    "CourseEnrollment",
    "EnrollmentService",
    "Gradebook",
    "GradebookExport",
    "GradedSubmissionFiles",
    "MyGrade",
    "ProgressReport",
    "ReviewService",
    "RosterEntry",
    "SubmissionDraft",
    "SubmissionFiles",
]
