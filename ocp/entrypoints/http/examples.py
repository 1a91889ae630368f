"""An example for every request body, in one table: what Swagger UI pre-fills and a generated
client's documentation shows. A test validates each against its schema."""

from __future__ import annotations

from typing import Any

_ID = "01a246e7444c1dafb56ccd6b"
PASSWORD = "correct horse battery staple"

# By the component schema of the body.
BY_SCHEMA: dict[str, dict[str, Any]] = {
    "RegisterIn": {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada Lovelace"},
    "Body_token_api_v1_auth_token_post": {"username": "ada@example.com", "password": PASSWORD},
    "RefreshIn": {"refresh_token": "q3X0v1lQk5o8pXyZ1s2t3u4v5w6x7y8z9A0B1C2D3E4"},
    "EmailIn": {"email": "ada@example.com"},
    "PasswordResetConfirmIn": {
        "token": "Zt8pQe2m5N1b7Vx4Lk9Jh3Gf6Ds0Aa2Ss4Dd6Ff8Gg0",
        "new_password": "a brand new passphrase",
    },
    "TokenIn": {"token": "Zt8pQe2m5N1b7Vx4Lk9Jh3Gf6Ds0Aa2Ss4Dd6Ff8Gg0"},
    "ProfileIn": {"full_name": "Ada King", "bio": "Writes the first programs."},
    "PasswordChangeIn": {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    "EmailChangeIn": {"new_email": "ada.lovelace@example.org", "current_password": PASSWORD},
    "CurrentPasswordIn": {"current_password": PASSWORD},
    "AdminUserIn": {"role": "instructor", "is_active": True},
    "CourseIn": {
        "title": "Introduction to Python",
        "summary": "Variables, functions and files, one week at a time.",
        "tags": ["python", "beginners"],
        "level": "beginner",
        "category": "programming",
        "capacity": 40,
    },
    "CoursePatchIn": {"summary": "Now with a week on testing.", "capacity": 60},
    "ModuleIn": {"title": "Week 1: the basics", "summary": "Values, names and types."},
    "ModulePatchIn": {"title": "Week 1: first steps"},
    "ModuleOrderIn": {"module_ids": [_ID, "01a246e745811dafb56ccd6f"]},
    "LessonIn": {
        "title": "Your first program",
        "kind": "text",
        "body_markdown": "# Hello\n\nType `print('hello')` and run it.",
        "is_preview": True,
    },
    "LessonPatchIn": {"title": "Your very first program", "duration_s": 600},
    "LessonOrderIn": {"lesson_ids": [_ID, "01a246e745a21dafb56ccd71"]},
    "DirectUploadIn": {
        "filename": "week1.pdf",
        "size": 482113,
        "content_type": "application/pdf",
        "purpose": "lesson_material",
        "course_id": _ID,
    },
    "AssignmentIn": {
        "title": "Essay: why tests matter",
        "instructions": "500 words, PDF.",
        "due_at": "2026-03-01T23:59:00Z",
        "max_points": 100,
        "allow_late": False,
        "max_files": 1,
        "allowed_types": ["application/pdf"],
    },
    "AssignmentPatchIn": {"due_at": "2026-03-08T23:59:00Z"},
    "SubmissionIn": {"text": "My essay is attached.", "file_ids": [_ID]},
    "GradeIn": {"points": 87, "feedback": "Clear argument; cite your sources."},
    "ReviewIn": {"rating": 5, "comment": "The best introduction I have taken."},
    "WebhookIn": {
        "url": "https://hooks.example.com/ocp",
        "events": ["enrollment.created", "submission.graded"],
        "description": "Our CRM",
    },
    "WebhookPatchIn": {"active": True},
}

# Bodies with no component schema of their own: by operation and media type.
BY_OPERATION: dict[tuple[str, str], dict[str, Any]] = {
    ("bulkEnroll", "application/json"): {"emails": ["ada@example.com", "alan@example.com"]},
    ("bulkEnroll", "multipart/form-data"): {"file": "email\nada@example.com\nalan@example.com"},
    ("uploadFile", "multipart/form-data"): {"purpose": "lesson_material", "course_id": _ID,
                                            "file": "(the file's bytes)"},
}  # fmt: skip


def give_examples(schema: dict[str, Any]) -> None:
    """Attach the example of each request body that has one in the tables."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            body = operation.get("requestBody") or {}
            for media_type, media in body.get("content", {}).items():
                ref = media.get("schema", {}).get("$ref", "")
                example = BY_SCHEMA.get(ref.rsplit("/", 1)[-1]) or BY_OPERATION.get(
                    (operation.get("operationId", ""), media_type)
                )
                if example is not None:
                    media["example"] = example
