"""Streaming `multipart/form-data`: python-multipart's push parser fed from the request body,
the file part handed on as a stream of bytes while it arrives (no spooled copy, memory
does not grow with the file), the small text fields collected wherever they come."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from ocp.domain.errors import PayloadTooLarge, RuleViolated, UnsupportedContent

T = TypeVar("T")

FORM_OVERHEAD_BYTES = 1 << 20  # part headers, boundaries and the small fields
FIELD_MAX_BYTES = 1024
MAX_PARTS = 16


@dataclass(frozen=True, slots=True)
class FilePart:
    name: str
    filename: str
    content_type: str


@dataclass(slots=True)
class Form(Generic[T]):
    fields: dict[str, str] = field(default_factory=dict)
    file: T | None = None
    file_part: FilePart | None = None


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The body size the client declared in `Content-Length`, None when absent or malformed
    (the stream's own count still applies)."""
    raw = headers.get("content-length")
    return int(raw) if raw and raw.isdigit() else None


# Parser events: ("part", headers), ("data", bytes), ("end", None).
_Event = tuple[str, object]


class MultipartStream:
    def __init__(
        self,
        body: AsyncIterator[bytes],
        content_type: str | None,
        *,
        max_file_bytes: int,
        declared_length: int | None = None,
        file_field: str = "file",
        text_fields: frozenset[str] = frozenset(),
    ) -> None:
        kind, options = parse_options_header(content_type or "")
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise UnsupportedContent("send the file as multipart/form-data")
        self._max_body = max_file_bytes + FORM_OVERHEAD_BYTES
        if declared_length is not None and declared_length > self._max_body:
            raise PayloadTooLarge(f"files may be at most {max_file_bytes} bytes")
        self._body = body
        self._file_field = file_field
        self._text_fields = text_fields
        self._pending: list[_Event] = []
        self._headers: dict[str, str] = {}
        self._header_name = bytearray()
        self._header_value = bytearray()
        try:
            self._parser = MultipartParser(
                boundary,
                callbacks={
                    "on_header_field": self._on_header_field,
                    "on_header_value": self._on_header_value,
                    "on_header_end": self._on_header_end,
                    "on_headers_finished": self._on_headers_finished,
                    "on_part_data": self._on_part_data,
                    "on_part_end": self._on_part_end,
                },
            )
        except Exception:
            raise RuleViolated("the multipart boundary is not valid", field="file") from None

    # --- parser callbacks (synchronous: they only queue events) --------------------------

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        name = self._header_name.decode("latin-1").strip().lower()
        # latin-1 keeps the raw bytes; a filename is decoded as UTF-8 once it is cut out.
        self._headers[name] = self._header_value.decode("latin-1").strip()
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        self._pending.append(("part", self._headers))
        self._headers = {}

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._pending.append(("data", data[start:end]))

    def _on_part_end(self) -> None:
        self._pending.append(("end", None))

    # --- reading -------------------------------------------------------------------------

    async def _events(self) -> AsyncIterator[_Event]:
        seen = 0
        try:
            async for chunk in self._body:
                seen += len(chunk)
                if seen > self._max_body:
                    raise PayloadTooLarge(
                        f"files may be at most {self._max_body - FORM_OVERHEAD_BYTES} bytes"
                    )
                self._parser.write(chunk)
                if self._pending:
                    events, self._pending = self._pending, []
                    for event in events:
                        yield event
            self._parser.finalize()
        except MultipartParseError:
            raise RuleViolated("the multipart body is malformed", field="file") from None
        for event in self._pending:
            yield event
        self._pending = []

    async def read(
        self, on_file: Callable[[AsyncIterator[bytes], FilePart], Awaitable[T]]
    ) -> Form[T]:
        """Parse the whole body; the file part goes to `on_file` as it streams in. When a
        later part is refused, the caller still gets the error after `on_file` ran: it must
        undo what `on_file` did (the form carries its result only on success)."""
        form: Form[T] = Form()
        events = self._events()
        parts = 0
        async for kind, value in events:
            if kind != "part":
                continue
            parts += 1
            if parts > MAX_PARTS:
                raise RuleViolated("the form has too many parts", field="file")
            assert isinstance(value, dict)
            disposition, options = parse_options_header(value.get("content-disposition", ""))
            name = options.get(b"name", b"").decode("utf-8", "replace")
            filename = options.get(b"filename")
            if disposition != b"form-data" or not name:
                raise RuleViolated("every part needs a form-data name", field="file")
            if name == self._file_field:
                if form.file_part is not None:
                    raise RuleViolated("send exactly one file", field=name)
                form.file_part = FilePart(
                    name=name,
                    filename=(filename or b"").decode("utf-8", "replace"),
                    content_type=str(value.get("content-type", "application/octet-stream")),
                )
                body = _part_body(events)
                form.file = await on_file(body, form.file_part)
                async for _ in body:  # a consumer that stopped early: skip what is left
                    pass
            elif name in self._text_fields:
                if name in form.fields:
                    raise RuleViolated("is given more than once", field=name)
                form.fields[name] = await _field_value(events, name)
            else:
                raise RuleViolated("is not a field of this form", field=name)
        return form


async def _part_body(events: AsyncIterator[_Event]) -> AsyncIterator[bytes]:
    async for kind, value in events:
        if kind == "end":
            return
        if kind == "data" and value:
            assert isinstance(value, bytes)
            yield value


async def _field_value(events: AsyncIterator[_Event], name: str) -> str:
    raw = bytearray()
    async for chunk in _part_body(events):
        raw += chunk
        if len(raw) > FIELD_MAX_BYTES:
            raise RuleViolated(f"must be at most {FIELD_MAX_BYTES} bytes", field=name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RuleViolated("must be UTF-8 text", field=name) from None
