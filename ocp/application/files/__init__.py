"""Files: the use cases (`service`) and the checks shared with the other capabilities
(`access`)."""

from ocp.application.files.access import (
    AllUsages,
    CoursesForFiles,
    NoCourses,
    NothingUsesFiles,
    OwnAvatarFiles,
    OwnCourseFiles,
)
from ocp.application.files.service import (
    HEAD_BYTES,
    DirectUploadRequest,
    DirectUploadTicket,
    FilePolicy,
    FileService,
    GcReport,
    NewFile,
    Received,
)

__all__ = [
    "HEAD_BYTES",
    "AllUsages",
    "CoursesForFiles",
    "DirectUploadRequest",
    "DirectUploadTicket",
    "FilePolicy",
    "FileService",
    "GcReport",
    "NewFile",
    "NoCourses",
    "NothingUsesFiles",
    "OwnAvatarFiles",
    "OwnCourseFiles",
    "Received",
]
