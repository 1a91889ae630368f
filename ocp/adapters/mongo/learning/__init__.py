"""MongoDB learning stores: `enrollments`, `assignments`, `submissions`, `reviews`.

No multi-document transactions: every change that must hold under concurrency is one
conditional single-document update (a seat only while below capacity, a grade only on the
latest attempt, progress only at the version read), backed by unique indexes.
"""

from ocp.adapters.mongo.learning.assignments import (
    MongoAssignmentRepository,
    MongoSubmissionRepository,
)
from ocp.adapters.mongo.learning.enrollments import (
    MongoEnrollmentRepository,
    enrollment_to_doc,
)
from ocp.adapters.mongo.learning.reviews import MongoReviewRepository

__all__ = [
    "MongoAssignmentRepository",
    "MongoEnrollmentRepository",
    "MongoReviewRepository",
    "MongoSubmissionRepository",
    "enrollment_to_doc",
]
