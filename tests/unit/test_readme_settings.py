"""The README is the operator's manual: its configuration table names every variable the
settings read, and nothing else, and no link in it or in docs/ leaves the repository."""

from __future__ import annotations

import re
from pathlib import Path

from ocp.settings import SECRET_SETTINGS, Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

VARIABLE = re.compile(r"`(OCP_[A-Z0-9_]+)`")
FENCED_BLOCK = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# Inline links and images `[text](target)`, reference definitions `[id]: target`, autolinks
# `<target>`: the places where Markdown makes a link.
LINK_TARGETS = (
    re.compile(r"\]\(\s*<?([^)\s>]+)"),
    re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE),
    re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*)>"),
)
LOCAL_SERVER = re.compile(r"^https?://(localhost|127\.0\.0\.1)([:/]|$)", re.IGNORECASE)


def variables_read_by_settings() -> set[str]:
    fields = {f"OCP_{name.upper()}" for name in Settings.model_fields}
    return fields | {f"OCP_{name.upper()}_FILE" for name in SECRET_SETTINGS}


def configuration_section() -> str:
    text = README.read_text(encoding="utf-8")
    heading = re.search(r"^## Configuration\s*$", text, re.MULTILINE)
    assert heading, "README.md has no '## Configuration' section"
    rest = text[heading.end() :]
    following = re.search(r"^## ", rest, re.MULTILINE)
    return rest[: following.start()] if following else rest


def variables_in_the_readme_table() -> set[str]:
    """The backticked OCP_ names in the first cell of each table row (a row's other cells
    mention variables too, in passing)."""
    names: set[str] = set()
    for line in configuration_section().splitlines():
        cells = line.strip().split("|")
        if line.strip().startswith("|") and len(cells) > 2:
            names |= set(VARIABLE.findall(cells[1]))
    return names


def test_the_readme_configuration_table_names_every_setting_and_only_those():
    documented = variables_in_the_readme_table()
    read = variables_read_by_settings()
    assert documented, "found no OCP_ variable in the README's configuration table"
    undocumented = sorted(read - documented)
    unknown = sorted(documented - read)
    assert not undocumented and not unknown, (
        f"README.md's configuration table is out of step with ocp/settings.py:\n"
        f"  read by the settings but missing from the table: {undocumented}\n"
        f"  in the table but read by no setting: {unknown}\n"
        "Add a row (variable, default, meaning) or remove the stale one."
    )


def link_targets(markdown: str) -> list[str]:
    prose = INLINE_CODE.sub("", FENCED_BLOCK.sub("", markdown))
    return [target for pattern in LINK_TARGETS for target in pattern.findall(prose)]


def test_no_link_in_the_readme_or_the_docs_leaves_the_repository():
    leaving = []
    for path in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in link_targets(path.read_text(encoding="utf-8")):
            if re.match(r"^https?://", target, re.IGNORECASE) and not LOCAL_SERVER.match(target):
                leaving.append(f"{path.relative_to(ROOT)}: {target}")
    assert not leaving, (
        "links that leave the repository (name the thing in plain text, or link a local doc):\n"
        + "\n".join(leaving)
    )


def test_the_link_check_sees_every_kind_of_markdown_link():
    markdown = (
        "[inline](https://example.com/a) ![image](http://example.com/b.png)\n"
        "[ref]: https://example.com/c\n"
        "<https://example.com/d> [local](docs/events.md) [server](http://localhost:8000/docs)\n"
        "`[code](https://example.com/e)`\n"
        "```\n[fenced](https://example.com/f)\n```\n"
    )
    assert link_targets(markdown) == [
        "https://example.com/a",
        "http://example.com/b.png",
        "docs/events.md",
        "http://localhost:8000/docs",
        "https://example.com/c",
        "https://example.com/d",
    ]
