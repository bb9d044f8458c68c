"""Legacy .doc: converted by LibreOffice headless and read as .docx; measured against gold."""
from __future__ import annotations

from pathlib import Path

import pytest

from jixiao.errors import ReportError
from jixiao.parse import parse_bytes
from jixiao.read import doc as doc_reader

from .formats.goldcheck import measure, sample_of

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "formats" / "doc").glob("*.doc"))
needs_lo = pytest.mark.skipif(doc_reader.soffice() is None,
                              reason="LibreOffice (soffice) is not installed: `make test` installs it with apt-get")


@needs_lo
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_doc_matches_gold(path: Path) -> None:
    report = parse_bytes(path.read_bytes(), source=path.name)
    tally = measure(report, sample_of(path.name))
    print(f"{path.name}: {tally.checked - len(tally.mismatches)}/{tally.checked} gold fields")
    assert report.source_format == "doc"
    assert tally.mismatches == []
    assert report.unparsed == []


def test_without_libreoffice_the_error_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setattr(doc_reader, "soffice", lambda: None)
    with pytest.raises(ReportError) as exc:
        parse_bytes(FIXTURES[0].read_bytes(), source="x.doc")
    assert "LibreOffice" in exc.value.reason and "apt-get install" in exc.value.reason


@needs_lo
def test_a_corrupt_doc_is_one_clear_error() -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00garbage" * 500
    with pytest.raises(ReportError) as exc:
        parse_bytes(data, source="broken.doc")
    # LibreOffice opens unreadable bytes as plain text, so the error may come from the parser.
    assert any(why in exc.value.reason for why in ("LibreOffice could not convert", "no text",
                                                  "not recognised as a performance report"))


def test_formats_are_told_by_content_not_by_name() -> None:
    """A .docx named .xlsx is a .docx, a workbook named .docx a workbook; HTML behind a BOM or
    a comment is HTML; Chinese text with a tag in it stays text."""
    from jixiao.read import sniff

    fx = Path(__file__).parent / "fixtures" / "formats"
    assert sniff((fx / "docx" / "000_b20a9b01b0d85700.docx").read_bytes(), "a.xlsx") == "docx"
    assert sniff((fx / "xlsx" / "000_b20a9b01b0d85700.xlsx").read_bytes(), "a.docx") == "xlsx"
    assert sniff(b"\xef\xbb\xbf<!DOCTYPE html><html><body>x", "a.txt") == "html"
    assert sniff(b"<!-- saved --><html><body>x", "a.txt") == "html"
    assert sniff("一、基本情况 <b>".encode(), "a.txt") == "text"
    assert sniff((fx / "doc" / "001_7a3827d77ccb6050.doc").read_bytes(), "a.txt") == "doc"
