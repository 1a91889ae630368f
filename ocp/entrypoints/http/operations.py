"""Stable, readable `operationId`s: what a client generated from `/openapi.json` names its
methods (`listCourses`, not `browse_api_v1_courses_get`). One table, so a rename of a route
function never renames a client's method; a test keeps it complete and unique."""

from __future__ import annotations

from typing import Any

from ocp.entrypoints.http.problems import responses

OPERATION_IDS: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "getHealth",
    ("GET", "/readyz"): "getReadiness",
    ("GET", "/metrics"): "getMetrics",
    ("POST", "/api/v1/auth/register"): "register",
    ("POST", "/api/v1/auth/token"): "logIn",
    ("POST", "/api/v1/auth/refresh"): "refreshTokens",
    ("POST", "/api/v1/auth/logout"): "logOut",
    ("POST", "/api/v1/auth/password-reset/request"): "requestPasswordReset",
    ("POST", "/api/v1/auth/password-reset/confirm"): "confirmPasswordReset",
    ("POST", "/api/v1/auth/verify-email/request"): "requestEmailVerification",
    ("POST", "/api/v1/auth/verify-email/confirm"): "confirmEmailVerification",
    ("GET", "/api/v1/users/me"): "getCurrentUser",
    ("PATCH", "/api/v1/users/me"): "updateCurrentUser",
    ("POST", "/api/v1/users/me/password"): "changePassword",
    ("POST", "/api/v1/users/me/email"): "requestEmailChange",
    ("POST", "/api/v1/users/me/email/confirm"): "confirmEmailChange",
    ("GET", "/api/v1/users/me/sessions"): "listMySessions",
    ("DELETE", "/api/v1/users/me/sessions/{session_id}"): "endMySession",
    ("GET", "/api/v1/users/me/export"): "exportMyData",
    ("DELETE", "/api/v1/users/me"): "deleteMyAccount",
    ("DELETE", "/api/v1/users/{user_id}"): "deleteUser",
    ("GET", "/api/v1/users/{user_id}/sessions"): "listUserSessions",
    ("DELETE", "/api/v1/users/{user_id}/sessions/{session_id}"): "endUserSession",
    ("GET", "/api/v1/users/{user_id}/export"): "exportUser",
    ("GET", "/api/v1/audit"): "listAuditEntries",
    ("POST", "/api/v1/courses/{course_id}/restore"): "restoreCourse",
    ("POST", "/api/v1/courses/{course_id}/modules/{module_id}/restore"): "restoreModule",
    ("POST", "/api/v1/lessons/{lesson_id}/restore"): "restoreLesson",
    ("POST", "/api/v1/assignments/{assignment_id}/restore"): "restoreAssignment",
    ("GET", "/api/v1/users/me/enrollments"): "listMyEnrollments",
    ("GET", "/api/v1/users"): "listUsers",
    ("GET", "/api/v1/users/{user_id}"): "getUser",
    ("PATCH", "/api/v1/users/{user_id}"): "administerUser",
    ("POST", "/api/v1/courses"): "createCourse",
    ("GET", "/api/v1/courses"): "listCourses",
    ("GET", "/api/v1/courses/{course_id}"): "getCourse",
    ("PATCH", "/api/v1/courses/{course_id}"): "updateCourse",
    ("DELETE", "/api/v1/courses/{course_id}"): "deleteCourse",
    ("POST", "/api/v1/courses/{course_id}/publish"): "publishCourse",
    ("POST", "/api/v1/courses/{course_id}/unpublish"): "unpublishCourse",
    ("POST", "/api/v1/courses/{course_id}/archive"): "archiveCourse",
    ("PUT", "/api/v1/courses/{course_id}/instructors/{user_id}"): "addInstructor",
    ("DELETE", "/api/v1/courses/{course_id}/instructors/{user_id}"): "removeInstructor",
    ("POST", "/api/v1/courses/{course_id}/modules"): "createModule",
    ("GET", "/api/v1/courses/{course_id}/modules"): "listModules",
    ("PUT", "/api/v1/courses/{course_id}/modules/order"): "reorderModules",
    ("PATCH", "/api/v1/courses/{course_id}/modules/{module_id}"): "updateModule",
    ("DELETE", "/api/v1/courses/{course_id}/modules/{module_id}"): "deleteModule",
    ("POST", "/api/v1/courses/{course_id}/modules/{module_id}/lessons"): "createLesson",
    ("PUT", "/api/v1/courses/{course_id}/modules/{module_id}/lessons/order"): "reorderLessons",
    ("GET", "/api/v1/lessons/{lesson_id}"): "getLesson",
    ("PATCH", "/api/v1/lessons/{lesson_id}"): "updateLesson",
    ("DELETE", "/api/v1/lessons/{lesson_id}"): "deleteLesson",
    ("PUT", "/api/v1/lessons/{lesson_id}/completion"): "completeLesson",
    ("DELETE", "/api/v1/lessons/{lesson_id}/completion"): "reopenLesson",
    ("POST", "/api/v1/files"): "uploadFile",
    ("GET", "/api/v1/files"): "listFiles",
    ("POST", "/api/v1/files/uploads"): "startDirectUpload",
    ("PUT", "/api/v1/files/uploads/{upload_id}/content"): "sendDirectUploadContent",
    ("POST", "/api/v1/files/uploads/{upload_id}/complete"): "completeDirectUpload",
    ("POST", "/api/v1/files/tus"): "createResumableUpload",
    ("HEAD", "/api/v1/files/tus/{upload_id}"): "getResumableUpload",
    ("PATCH", "/api/v1/files/tus/{upload_id}"): "appendResumableUpload",
    ("DELETE", "/api/v1/files/tus/{upload_id}"): "deleteResumableUpload",
    ("GET", "/api/v1/files/{file_id}"): "getFile",
    ("DELETE", "/api/v1/files/{file_id}"): "deleteFile",
    ("GET", "/api/v1/files/{file_id}/content"): "downloadFile",
    ("HEAD", "/api/v1/files/{file_id}/content"): "headFileContent",
    ("POST", "/api/v1/courses/{course_id}/enrollments"): "enroll",
    ("GET", "/api/v1/courses/{course_id}/enrollments"): "listEnrollments",
    ("POST", "/api/v1/courses/{course_id}/enrollments/bulk"): "bulkEnroll",
    ("DELETE", "/api/v1/courses/{course_id}/enrollments/me"): "dropCourse",
    ("GET", "/api/v1/courses/{course_id}/progress"): "getProgress",
    ("POST", "/api/v1/courses/{course_id}/assignments"): "createAssignment",
    ("GET", "/api/v1/courses/{course_id}/assignments"): "listAssignments",
    ("GET", "/api/v1/assignments/{assignment_id}"): "getAssignment",
    ("PATCH", "/api/v1/assignments/{assignment_id}"): "updateAssignment",
    ("DELETE", "/api/v1/assignments/{assignment_id}"): "deleteAssignment",
    ("POST", "/api/v1/assignments/{assignment_id}/submissions"): "submitAssignment",
    ("GET", "/api/v1/assignments/{assignment_id}/submissions"): "listSubmissions",
    ("GET", "/api/v1/submissions/{submission_id}"): "getSubmission",
    ("PUT", "/api/v1/submissions/{submission_id}/grade"): "gradeSubmission",
    ("GET", "/api/v1/courses/{course_id}/gradebook"): "getGradebook",
    ("GET", "/api/v1/courses/{course_id}/grades/me"): "getMyGrades",
    ("PUT", "/api/v1/courses/{course_id}/reviews/me"): "reviewCourse",
    ("GET", "/api/v1/courses/{course_id}/reviews"): "listReviews",
    ("POST", "/api/v1/webhooks"): "createWebhook",
    ("GET", "/api/v1/webhooks"): "listWebhooks",
    ("GET", "/api/v1/webhooks/{webhook_id}"): "getWebhook",
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): "updateWebhook",
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): "deleteWebhook",
    ("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret"): "rotateWebhookSecret",
    ("POST", "/api/v1/webhooks/{webhook_id}/ping"): "pingWebhook",
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): "listWebhookDeliveries",
    (
        "POST",
        "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    ): "redeliverWebhookDelivery",
    ("GET", "/api/v1/events"): "listEvents",
    ("GET", "/api/v1/jobs/{job_id}"): "getJob",
    ("GET", "/api/v1/jobs/{job_id}/report.csv"): "getJobReport",
}


# Served to anonymous callers too (a token, when sent, must be valid and changes the answer):
# documented as optional auth, so a generated client may call them without one.
OPTIONAL_AUTH = {
    "listCourses",
    "getCourse",
    "listModules",
    "getLesson",
    "listReviews",
    "getFile",
    "downloadFile",
}


def name_operations(schema: dict[str, Any]) -> None:
    """Give every operation its id from the table (one missing there keeps FastAPI's), and
    mark the public reads' bearer token as optional (`security: [{}, {bearer}]`)."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            named = OPERATION_IDS.get((method.upper(), path))
            if named is not None:
                operation["operationId"] = named
            if named in OPTIONAL_AUTH:
                operation["security"] = [{}, {"OAuth2PasswordBearer": []}]


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


def _header_parameter(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, **_header(description)}


def document_headers(schema: dict[str, Any]) -> None:
    """The headers the contract names, declared where they apply: `If-Match` on every PATCH
    (with its 412), `If-None-Match` on the public reads, and in answers `X-Request-ID` (all),
    `ETag` (a resource read or written), `Link` (a page with a next one), `Location` (201)."""
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            parameters = operation.setdefault("parameters", [])
            names = {p.get("name", "").lower() for p in parameters if isinstance(p, dict)}
            answers = operation.setdefault("responses", {})
            resumable = operation.get("operationId") == "appendResumableUpload"  # tus: offsets
            if method == "patch" and "if-match" not in names and not resumable:
                parameters.append(_header_parameter("If-Match", "the ETag read: 412 if stale"))
                answers.setdefault("412", responses(412)[412])
            if operation.get("operationId") in OPTIONAL_AUTH and "if-none-match" not in names:
                parameters.append(_header_parameter("If-None-Match", "an ETag held: 304 if same"))
            paged = "cursor" in names
            for code, response in answers.items():
                headers = response.setdefault("headers", {})
                headers.setdefault("X-Request-ID", _header("echoed, or made for this request"))
                if str(code) == "201":
                    headers.setdefault("Location", _header("the new resource"))
                if str(code) not in ("200", "201") or method == "delete":
                    continue
                if paged:
                    headers.setdefault("Link", _header('`<...>; rel="next"` when there is more'))
                else:
                    headers.setdefault("ETag", _header("the version read or written"))
            if not parameters:
                del operation["parameters"]
