"""The embedded development database: SecantusDB started as its own process.

SecantusDB (GPL-2.0, beta) is an optional extra; this launcher runs its command and never
imports it. Production sets OCP_MONGODB_URI and nothing here runs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

_COMMAND = "secantusd-py"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _command() -> str:
    beside_python = Path(sys.executable).with_name(_COMMAND)
    found = str(beside_python) if beside_python.exists() else shutil.which(_COMMAND)
    if not found:
        raise RuntimeError(
            "OCP_MONGODB_URI is not set and the embedded database is not installed: "
            "`pip install 'ocp[embedded]'` (or `make run`), or point OCP_MONGODB_URI at MongoDB"
        )
    return found


class EmbeddedDatabase:
    """Starts, waits for and stops one SecantusDB server storing its files in `directory`.

    A started server is announced in `<directory>.json` (its port and process), so another
    command on the same data directory (`ocp users create` while `make run` serves) uses it
    instead of starting a second server on the same files."""

    def __init__(
        self, directory: Path, port: int | None = None, *, test_commands: bool = False
    ) -> None:
        self.directory = directory
        self.port = port or _free_port()
        # configureFailPoint, for fault-injection tests only: never in `make run`.
        self.test_commands = test_commands
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def _announcement(self) -> Path:
        return self.directory.with_name(self.directory.name + ".json")

    @classmethod
    def running(cls, directory: Path) -> EmbeddedDatabase | None:
        """The server another process started on `directory`, if it still answers."""
        try:
            found = json.loads(directory.with_name(directory.name + ".json").read_text())
            os.kill(int(found["pid"]), 0)  # the process lives (signal 0 checks only)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        other = cls(directory, int(found["port"]))
        return other if other._answers() else None

    def start(self, timeout_s: float = 30.0) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory.parent / "embedded-db.log").open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - our own command, no shell
            [_command(), "--port", str(self.port), "--storage-path", str(self.directory)]
            + (["--enable-test-commands"] if self.test_commands else []),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"the embedded database exited at start (code {self._process.returncode}); "
                    f"see {self.directory.parent / 'embedded-db.log'}"
                )
            if self._answers():
                announced = {"port": self.port, "pid": self._process.pid}
                self._announcement.write_text(json.dumps(announced))
                return self.uri
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the embedded database did not answer within its start timeout")

    def _answers(self) -> bool:
        client: MongoClient[dict[str, object]] = MongoClient(
            self.uri, serverSelectionTimeoutMS=300, connectTimeoutMS=300
        )
        try:
            client.admin.command("ping")
            return True
        except PyMongoError:
            return False
        finally:
            client.close()

    def stop(self, timeout_s: float = 20.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return  # another process's server (`running`), or never started: not ours
        self._announcement.unlink(missing_ok=True)
        if process.poll() is not None:
            return
        process.terminate()  # SIGTERM: the server checkpoints WiredTiger and exits
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
