"""The file store contract on the in-memory and the local disk store (the file records' contracts
run with every other collection's in `test_store_contracts.py`)."""

from __future__ import annotations

import pytest

from ocp.adapters.memory.files import InMemoryFileStore
from ocp.adapters.storage.disk import DiskFileStore
from tests.contracts.files import FileStoreContract, chunks_of


class TestInMemoryFileStore(FileStoreContract):
    @pytest.fixture
    def store(self):
        return InMemoryFileStore()


class TestDiskFileStore(FileStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return DiskFileStore(tmp_path / "files")

    async def test_objects_never_take_a_client_name_and_no_draft_stays(self, store, tmp_path):
        await store.write("f123", chunks_of(b"content"), max_bytes=100)
        paths = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
        assert [p.name for p in paths] == ["f123"]
        assert paths[0].parent.parent.parent.name == "objects"  # objects/aa/bb/<key>


async def test_a_disk_failure_is_a_dependency_unavailable_and_leaves_no_draft(
    tmp_path, monkeypatch
):
    from ocp.adapters.storage import disk
    from ocp.application.ports.common import DependencyUnavailable

    def full_disk(handle, batch):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(disk, "_write", full_disk)
    store = DiskFileStore(tmp_path / "files")
    with pytest.raises(DependencyUnavailable):
        await store.write("k", chunks_of(b"x" * 5_000_000), max_bytes=10**9)
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []
