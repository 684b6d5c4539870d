"""Decoding the text files poolsim reads from other tools: one rule for every reader.

A byte-order mark decides: UTF-8's (``EF BB BF``) means UTF-8, UTF-16's (``FF FE`` or ``FE FF``,
what Windows PowerShell 5.1's ``>`` and ``Out-File`` write) means UTF-16. Without one the text
is UTF-8, then each fallback the reader allows (the inventory CSV allows Excel's Windows-1252;
the VB365 JSON exports allow none). The inventory CSV reader (``sim.workload.inventory``) and the
export reader (``sim.estate.read``) both use ``decode_text`` and word their own error from
``UndecodableText``.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence

__all__ = ["UndecodableText", "decode_text"]


class UndecodableText(ValueError):
    """The bytes are none of the encodings tried; where the first bad byte is."""

    def __init__(self, encodings: Sequence[str], raw: bytes, start: int) -> None:
        self.encodings = list(encodings)
        self.start = start
        """Offset in the file (byte-order mark included) of the first byte the first encoding
        could not decode."""
        self.byte = f"byte {raw[start]:#04x}" if start < len(raw) else "the end of the data"
        """The bad byte as shown to people (``byte 0xff``)."""
        before = raw[:start].decode(self.encodings[0], errors="replace")
        self.line = before.count("\n") + 1
        """Its line (1-based)."""
        super().__init__(
            f"cannot decode {self.byte} (offset {start}, line {self.line}) as "
            + " or ".join(self.encodings)
        )


def decode_text(raw: bytes, fallbacks: Sequence[str] = ()) -> tuple[str, str]:
    """The text of ``raw`` and the encoding used: by its byte-order mark (UTF-8 or UTF-16,
    the mark removed), else UTF-8 then each of ``fallbacks``. Raises UndecodableText."""
    if raw.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", *fallbacks]
    start: int | None = None
    for encoding in candidates:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            if start is None:  # utf-8-sig counts from after its mark, utf-16 from the start
                start = exc.start + (len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0)
    assert start is not None
    raise UndecodableText(candidates, raw, start)
