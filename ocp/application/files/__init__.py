"""Files use cases: uploads through the API (`UploadService`), direct uploads
(`DirectUploadService`) and everything after (`FileService`)."""

from ocp.application.files.direct import (
    DirectUploadRequest,
    DirectUploadService,
    DirectUploadTicket,
)
from ocp.application.files.policy import FilePolicy
from ocp.application.files.service import FileService, GcReport
from ocp.application.files.uploads import (
    HEAD_BYTES,
    NewFile,
    OnFile,
    ReadForm,
    Received,
    UploadService,
)

__all__ = [
    "HEAD_BYTES",
    "DirectUploadRequest",
    "DirectUploadService",
    "DirectUploadTicket",
    "FilePolicy",
    "FileService",
    "GcReport",
    "NewFile",
    "OnFile",
    "ReadForm",
    "Received",
    "UploadService",
]
