"""A report published as several files, kept in one folder, builds as one report; each
table's provenance names the file it came from."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from jixiao.build import build
from jixiao.inputs import discover
from jixiao.cli import cli
from jixiao.model import TableBlock
from jixiao.parse import parse_file
from jixiao.parse.tika import read_tika
from jixiao.textstore import unpack

from .formats.goldcheck import measure
from .test_docx import docx_from_tika

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "reports" / "000_b20a9b01b0d85700.txt"
OTHER = ROOT / "reports" / "001_7a3827d77ccb6050.txt"


def split_sample(folder: Path) -> list[str]:
    """The narrative as text, each table as its own .docx attachment (附件N.docx)."""
    text = SAMPLE.read_text("utf-8")
    lines = text.split("\n")
    tables = [b for b in read_tika(text).blocks if isinstance(b, TableBlock)]
    in_table = set()
    names = []
    for n, t in enumerate(tables, 1):
        body = lines[t.line_start - 1:t.line_end] + ["", ""]
        in_table.update(range(t.line_start, t.line_end + 3))
        data, _ = docx_from_tika("\n".join(body) + "\n")
        names.append(f"附件{n}.docx")
        (folder / names[-1]).write_bytes(data)
    narrative = [ln for k, ln in enumerate(lines, 1) if k not in in_table]
    (folder / "自评报告.txt").write_text("\n".join(narrative), "utf-8")
    return names


def test_a_folder_of_attachments_is_one_report(tmp_path: Path) -> None:
    folder = tmp_path / "reports" / "岳阳市司法局2024"
    folder.mkdir(parents=True)
    names = split_sample(folder)
    assert len(names) >= 3
    assert discover([tmp_path / "reports"]) == [folder]

    report = parse_file(folder)
    tally = measure(report, SAMPLE.name)
    print(f"bundle of {len(names) + 1} files: {tally.checked - len(tally.mismatches)}/{tally.checked} gold fields")
    assert tally.mismatches == []
    assert report.source_format == "bundle"
    assert [p.file for p in report.parts] == ["自评报告.txt", *names]  # the narrative first
    assert report.unparsed == []

    out = tmp_path / "out" / "jixiao.db"
    result = build([tmp_path / "reports"], out=out, packages=tmp_path / "out" / "dp", cache_dir=None,
                   progress=False, workers=1)
    assert len(result.reports) == 1 and not result.errors
    con = sqlite3.connect(out)
    files = [r[0] for r in con.execute("select source_file from source_tables order by table_seq")]
    assert set(files) == set(names)  # each table names the attachment it came from
    parts = con.execute("select source_file, line_start, line_end from source_parts order by part").fetchall()
    assert [p[0] for p in parts] == ["自评报告.txt", *names]
    assert all(a[2] < b[1] for a, b in zip(parts, parts[1:]))  # line ranges follow one another
    # Every table's first line lies in the range of the file it names.
    for f, start in con.execute("select source_file, line_start from source_tables"):
        lo, hi = next((p[1], p[2]) for p in parts if p[0] == f)
        assert lo <= start <= hi
    text = unpack(con.execute("select text from source_texts").fetchone()[0])
    assert text.count("\n") >= parts[-1][2]


def test_a_folder_of_different_reports_is_not_a_bundle(tmp_path: Path) -> None:
    folder = tmp_path / "reports" / "湖南"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_bytes(SAMPLE.read_bytes())
    (folder / "b.txt").write_bytes(OTHER.read_bytes())
    assert discover([tmp_path / "reports"]) == [folder / "a.txt", folder / "b.txt"]


def test_cli_parses_a_bundle_folder(tmp_path: Path) -> None:
    split_sample(tmp_path)
    res = CliRunner().invoke(cli, ["parse", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "岳阳市司法局" in res.output


def test_other_files_are_never_silent(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "r.txt").write_bytes(SAMPLE.read_bytes())
    (reports / "README.md").write_text("about these files")
    (reports / "manifest.jsonl").write_text('{"file": "r.txt"}\n')  # a harvester's list of what it fetched
    (reports / "attachments.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (reports / "scan.heic").write_bytes(b"\0" * 100)
    result = build([reports], out=tmp_path / "j.db", packages=tmp_path / "dp", cache_dir=None, progress=False,
                   workers=1)
    errors = {Path(e.source_file).name: e.error for e in result.errors}
    assert set(errors) == {"attachments.zip", "scan.heic"}
    assert "extract" in errors["attachments.zip"]
    assert "unsupported file type .heic" in errors["scan.heic"]
    assert any("README.md: not a report" in line for line in result.log)
    assert any("manifest.jsonl: not a report" in line for line in result.log)
