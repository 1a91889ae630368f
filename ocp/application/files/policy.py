"""The files capability's settings, as the use cases read them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FilePolicy:
    max_upload_bytes: int = 2_147_483_648
    direct_upload_ttl_s: int = 3_600
    presign_ttl_s: int = 300
    redirect_downloads: bool = False
    gc_grace_s: int = 3_600  # objects younger than this may belong to an upload in flight
