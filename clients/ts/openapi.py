"""The OpenAPI document `ocp serve` publishes at /openapi.json, built from the app (no server,
no database) with every OCP_ setting at its default, written as the text the TypeScript client
is generated from: `python clients/ts/openapi.py > clients/ts/openapi.json` (see ./generate)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any
from unittest import mock

from ocp.container import Container
from ocp.entrypoints.http.app import create_app
from ocp.settings import Settings


def document() -> dict[str, Any]:
    """The published document; no OCP_ variable of the caller's shell changes it."""
    defaults_only = {k: v for k, v in os.environ.items() if not k.startswith("OCP_")}
    with (
        tempfile.TemporaryDirectory() as data_dir,
        mock.patch.dict(os.environ, defaults_only, clear=True),
    ):
        # In-memory adapters: building the app opens no connection; the document is the same.
        settings = Settings(
            _env_file=None, database="memory", mail="memory", file_store="memory", data_dir=data_dir
        )
        return create_app(Container.for_settings(settings)).openapi()


def text() -> str:
    """The document as committed: stable key order as the app builds it, two-space indents."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(text())
