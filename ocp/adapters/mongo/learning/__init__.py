"""MongoDB learning stores: `enrollments` (shared with the courses capability's lookup),
`assignments`, `submissions`, `reviews`, and the counters on `courses`.

No multi-document transactions: every change that must hold under concurrency is one
conditional single-document update (a seat only while below capacity, a grade only on the
latest attempt, progress only at the version read), backed by unique indexes.
"""

from ocp.adapters.mongo.learning.assignments import (
    MongoAssignmentRepository,
    MongoSubmissionRepository,
)
from ocp.adapters.mongo.learning.enrollments import (
    MongoCourseCounters,
    MongoEnrollmentRepository,
    enrollment_to_doc,
)
from ocp.adapters.mongo.learning.reviews import MongoReviewRepository

__all__ = [
    "MongoAssignmentRepository",
    "MongoCourseCounters",
    "MongoEnrollmentRepository",
    "MongoReviewRepository",
    "MongoSubmissionRepository",
    "enrollment_to_doc",
]
