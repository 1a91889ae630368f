"""Free text a client writes (titles, summaries, instructions, comments): trimmed, within its
length, free of control characters."""

from __future__ import annotations

from ocp.domain.errors import RuleViolated


def checked_text(
    value: str, name: str, *, max_chars: int, min_chars: int = 0, one_line: bool
) -> str:
    """`value` trimmed (and on one line, its runs of whitespace made one space); `RuleViolated`
    on `name` when it is too short or long, or holds a control character."""
    text = " ".join(value.split()) if one_line else value.strip()
    if not min_chars <= len(text) <= max_chars:
        raise RuleViolated(f"must be {min_chars} to {max_chars} characters", field=name)
    if any((ord(ch) < 32 and ch not in "\n\r\t") or ord(ch) == 127 for ch in text):
        raise RuleViolated("must not contain control characters", field=name)
    return text
