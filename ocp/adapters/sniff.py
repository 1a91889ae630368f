"""Content types decided from the bytes (magic numbers), never from a client's declaration.

A small table covers every type a purpose may hold; anything else is "unknown" (None), which
no purpose allows. ZIP-based documents are told apart by their first entry names.
"""

from __future__ import annotations

import codecs

_ZIP = b"PK\x03\x04"
_OOXML = (
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
)
_MP4_IMAGE_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis")
# Control characters a plain text file may contain: tab, line feed, form feed, carriage return.
_TEXT_CONTROLS = frozenset(b"\t\n\x0c\r")


class MagicNumberSniffer:
    def sniff(self, head: bytes, complete: bool) -> str | None:
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return "image/png"
        if head.startswith(b"\xff\xd8\xff"):
            return "image/jpeg"
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return "image/gif"
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return "image/webp"
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            return "audio/wav"
        if head.startswith(b"%PDF-"):
            return "application/pdf"
        if head.startswith(_ZIP):
            return _zip_kind(head)
        if head[4:8] == b"ftyp":
            return None if head[8:12] in _MP4_IMAGE_BRANDS else "video/mp4"
        if head.startswith(b"\x1a\x45\xdf\xa3"):
            return "video/webm" if b"webm" in head[:64] else None
        if head.startswith(b"OggS"):
            return "audio/ogg"
        if head.startswith(b"ID3") or (
            len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
        ):
            return "audio/mpeg"
        if _is_text(head, complete):
            return "text/plain"
        return None


def _zip_kind(head: bytes) -> str:
    # ODF and EPUB keep an uncompressed first entry named `mimetype` holding their type.
    if head[30:38] == b"mimetype":
        declared = head[38:120]
        if declared.startswith(b"application/epub+zip"):
            return "application/epub+zip"
        if declared.startswith(b"application/vnd.oasis.opendocument.text"):
            return "application/vnd.oasis.opendocument.text"
    if b"[Content_Types].xml" in head:
        for marker, kind in _OOXML:
            if marker in head:
                return kind
    return "application/zip"


def _is_text(head: bytes, complete: bool) -> bool:
    """UTF-8 (a BOM allowed) without NULs or control characters other than whitespace; a
    multi-byte character cut at the end of an incomplete head is not held against it."""
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return not any((ord(ch) < 32 and ord(ch) not in _TEXT_CONTROLS) or ch == "\x7f" for ch in text)
