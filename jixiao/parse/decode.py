"""Bytes → text: detect the encoding (UTF-8, UTF-8 with BOM, UTF-16, GB18030/GBK), normalise
line ends, refuse what is not text."""
from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from ..errors import ReportError

# Magic numbers of formats people rename to .txt by mistake.
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document (convert it to text or .docx first)",
    b"PK\x03\x04": "a zip archive (a .docx? give it the .docx extension)",
    b"\xd0\xcf\x11\xe0": "an old Word/Excel binary file (.doc/.xls); save it as .docx",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). Raise ReportError for empty or binary input."""
    if not data.strip():
        raise ReportError("the file is empty", 1)
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise ReportError(f"this is {what}, not report text", 1)
    if data.startswith(codecs.BOM_UTF8):
        text, enc = data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, enc = data.decode("utf-16", errors="replace"), "utf-16"
    else:
        try:
            text, enc = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, enc = _guess(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    _refuse_binary(text)
    return text, enc


def _guess(data: bytes) -> tuple[str, str]:
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    if bad <= max(3, len(lenient) // 1000):
        # Mostly UTF-8 with a few broken bytes: keep the report, say how many were replaced.
        return lenient, f"utf-8 ({bad} invalid byte sequence(s) replaced)"
    try:
        text = data.decode("gb18030")  # a superset of GBK and GB2312
        return text, "gb18030"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None:
        line = data[: _first_bad_offset(data)].count(b"\n") + 1
        raise ReportError("not text in any known encoding (binary data?)", line)
    return str(best), best.encoding


def _first_bad_offset(data: bytes) -> int:
    try:
        data.decode("utf-8")
        return 0
    except UnicodeDecodeError as exc:
        return exc.start


_CONTROLS = re.compile("[\x00-\x08\x0d-\x1f]")


def _refuse_binary(text: str) -> None:
    if "\x00" in text:
        raise ReportError("binary data (NUL bytes) in the file", text[: text.index("\x00")].count("\n") + 1)
    sample = text[:20000]
    # C0 controls other than \t \n \v \f (and \r, already turned into \n): counted by a
    # regex, which scans in C instead of a Python loop over 20,000 characters.
    controls = len(_CONTROLS.findall(sample))
    if controls > max(20, len(sample) // 50):
        raise ReportError(f"binary data ({controls} control characters in the first {len(sample)})", 1)
    replaced = sample.count("\ufffd")
    if replaced > max(20, len(sample) // 20):
        raise ReportError("the text does not decode cleanly (binary data or a mixed encoding)", 1)
