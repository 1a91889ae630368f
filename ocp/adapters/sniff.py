"""Content types decided from the bytes (magic numbers), never from a client's declaration.

A small table covers every type a purpose may hold; anything else is "unknown" (None), which
no purpose allows. ZIP-based documents are told apart by their first entry names.
"""

from __future__ import annotations

import codecs
import struct
import zlib

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
    """Magic numbers, and for the types a browser renders (images, PDF, MP3) the structure right
    after them: `\\x89PNG...<html>` or `GIF89a<script>` is no image, and UTF-16 text is no MP3."""

    def sniff(self, head: bytes, complete: bool) -> str | None:
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return "image/png" if _png_header_parses(head) else None
        if head.startswith(b"\xff\xd8\xff"):
            return "image/jpeg" if _jpeg_header_parses(head) else None
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return "image/gif" if _gif_header_parses(head) else None
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return "image/webp" if head[12:16] in (b"VP8 ", b"VP8L", b"VP8X") else None
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            return "audio/wav"
        if head.startswith(b"%PDF-"):
            return "application/pdf" if _pdf_header_parses(head) else None
        if head.startswith(_ZIP):
            return _zip_kind(head)
        if head[4:8] == b"ftyp":
            return None if head[8:12] in _MP4_IMAGE_BRANDS else "video/mp4"
        if head.startswith(b"\x1a\x45\xdf\xa3"):
            return "video/webm" if b"webm" in head[:64] else None
        if head.startswith(b"OggS"):
            return "audio/ogg"
        if _is_mp3(head, complete):
            return "audio/mpeg"
        if _is_text(head, complete):
            return "text/plain"
        return None


_MAX_IMAGE_SIDE = 1 << 16


def _png_header_parses(head: bytes) -> bool:
    """The first chunk is IHDR, 13 bytes, with a matching CRC and sane dimensions."""
    if len(head) < 33 or head[8:16] != b"\x00\x00\x00\x0dIHDR":
        return False
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    (crc,) = struct.unpack(">I", head[29:33])
    return (
        zlib.crc32(head[12:29]) & 0xFFFFFFFF == crc
        and 0 < width <= _MAX_IMAGE_SIDE
        and 0 < height <= _MAX_IMAGE_SIDE
        and depth in (1, 2, 4, 8, 16)
        and colour in (0, 2, 3, 4, 6)
    )


def _gif_header_parses(head: bytes) -> bool:
    """A logical screen of non-zero size, then (after any global colour table) an image
    descriptor, an extension or the trailer."""
    if len(head) < 14:
        return False
    width, height, flags = struct.unpack("<HHB", head[6:11])
    table = 3 * (2 << (flags & 0x07)) if flags & 0x80 else 0
    following = head[13 + table : 14 + table]
    return width > 0 and height > 0 and following in (b",", b"!", b";")


def _jpeg_header_parses(head: bytes) -> bool:
    """After SOI, a marker segment (APPn, DQT, SOF, DHT, COM...) whose length fits."""
    if len(head) < 6 or head[3] not in range(0xC0, 0xFF) or head[3] in (0xD8, 0xD9):
        return False
    (length,) = struct.unpack(">H", head[4:6])
    return length >= 2


def _pdf_header_parses(head: bytes) -> bool:
    """`%PDF-1.x` or `%PDF-2.x`, and no markup before the first object: a PDF signature in
    front of an HTML page is refused."""
    if (
        len(head) < 8
        or head[5:6] not in (b"1", b"2")
        or head[6:7] != b"."
        or not head[7:8].isdigit()
    ):
        return False
    lowered = head[:1024].lower()
    return not any(tag in lowered for tag in (b"<html", b"<script", b"<!doctype", b"<body"))


# MPEG audio frame headers: kbit/s by (version is MPEG-1, layer) and bitrate index; sample
# rates by version. Index 0 (free format) and 15 (bad) are refused, as is sample-rate index 3.
_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame_length(header: bytes) -> int | None:
    """The length of the MPEG audio frame starting with this 4-byte header, or None when the
    header is not a valid one."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 0x03
    layer = 4 - ((header[1] >> 1) & 0x03)  # 1, 2 or 3; 4 is reserved
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0x03
    if version == 1 or layer == 4 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _BITRATES[(version == 3, layer)][bitrate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 0x01
    if layer == 1:
        return (12 * bitrate // sample_rate + padding) * 4
    per_frame = 72 if (layer == 3 and version != 3) else 144
    return per_frame * bitrate // sample_rate + padding


def _is_mp3(head: bytes, complete: bool) -> bool:
    """An ID3v2 tag, or a valid frame header followed by another one where the first frame
    ends (or a whole file of exactly one frame): two chained frames do not happen by chance,
    a lone "header" (a UTF-16 BOM and two letters) does."""
    if head.startswith(b"ID3") and len(head) >= 10:
        return head[3] in (2, 3, 4) and all(byte < 0x80 for byte in head[6:10])
    length = _mp3_frame_length(head)
    if length is None:
        return False
    if complete and len(head) == length:
        return True
    return _mp3_frame_length(head[length : length + 4]) is not None


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
