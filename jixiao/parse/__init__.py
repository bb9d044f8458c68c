"""Parse one report into the :class:`~jixiao.model.Report` model.

``parse_text`` and ``parse_docx_bytes`` are pure (text or bytes in, model out);
``parse_file`` reads a file. Both readers produce the same block stream, so a .docx and its
Tika text give the same model.
"""
from __future__ import annotations

import hashlib
import re
import stat
from collections import Counter
from datetime import date
from pathlib import Path

from ..errors import ReportError
from ..model import (
    Cell,
    GenericTable,
    Issue,
    OtherLine,
    Paragraph,
    Report,
    Row,
    SourcePart,
    TableBlock,
    Unparsed,
    clean_text,
)
from . import evaluation as ev_table
from . import identity as ident
from .identity import make_report_id
from . import tables as tb
from .sections import build_sections, numbering
from .tika import Blocks, read_tika

_ATTACHMENT = re.compile(r"^(附件|附表)\s*[0-9０-９一二三四五六七八九十]*\s*[：:]?\s*$")
_NOTE = re.compile(r"^(说明|填表人|填报人|备注|注|填报日期|单位负责人|填表说明|填报说明|联系人|联系电话|审核人)\s*[：:]")
# The numbered points of a note that opens a list ('填表说明：' then '1.完成值：…').
_NOTE_POINT = re.compile(r"^\s*(?:\d+\s*[.、．]|[（(]\s*\d+\s*[）)])")
# A note whose text already holds numbered points: '填表说明：1.指标性质填写…；2.…'.
_NOTE_POINTS_INLINE = re.compile(r"[：:；;。]\s*\d+\s*[.、．]\D")
_DATE = re.compile(r"^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")
_COVER = re.compile(r"^[（(]\s*此页为封面\s*[）)]$")
# Web-portal front matter printed before the title.
_FRONT = re.compile(r"^(索引号|发布日期|发布时间|发布机构|发文机关|信息来源|来源|文号|生效日期|主题分类|公开方式|公开范围|"
                    r"浏览次数|字号|分类|成文日期|有效性|报表编号|发文字号|主题词|公文种类|体裁分类|组配分类)\s*[：:]")
# Web-portal chrome anywhere on the page: navigation, page tools and the site footer. Before
# the title it is front matter, after it an artefact; never narrative, never the unit.
_CHROME = re.compile(
    r"^\W{0,3}(?:欢迎(?:来到|访问|光临)|您?(?:现在|当前)的?位置|当前位置|所在位置|首页\s*[>＞»›]|时效性|浏览次数|访问次数|"
    r"点击(?:数|次数|量|率)|阅读(?:数|次数|量)|字号|打印本页|关闭窗口|【?\s*打印\s*】?\s*【?\s*关闭|网站标识码|网站地图|"
    r"Copyright|版权所有|主办单位|承办单位|技术支持|扫一扫|分享到|[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]ICP备)",
    re.IGNORECASE)
_YEAR_COLUMN = re.compile(r"(20\d{2})年(?:决算数|实际在职人数)")
_YEAR_OF = re.compile(r"(20\d{2})\s*年度")
_TABLE_TITLE = re.compile(r"表\s*[（(]?[^（(）)]{0,10}[）)]?\s*$")
_SENTENCE_END = re.compile(r"[。；;]")
_UNIT_NOTE = re.compile(r"^(金额)?单位\s*[：:]\s*(万元|元|人|个)\s*$")
_PUNCT = re.compile(r"[。；;：:，,]")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_file(path: str | Path) -> Report:
    """One report file, or a folder holding one report's files (a bundle)."""
    path = Path(path)
    if path.is_dir():
        return parse_folder(path)
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise ReportError("not a regular file (a directory, FIFO, device or socket)", None, str(path))
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"cannot read the file: {exc.strerror or exc}", None, str(path)) from None
    try:
        return parse_bytes(data, source=str(path))
    except ReportError as exc:
        raise exc.with_source(str(path)) from None


def parse_bytes(data: bytes, source: str = "<input>") -> Report:
    """Any supported format: the reader is chosen by content (jixiao.read.sniff)."""
    from ..read import read_source

    src = read_source(data, Path(source).name)
    report = parse_blocks(src.blocks, source=source, sha256=sha256_bytes(data), encoding=src.encoding,
                          source_format=src.source_format)
    text = src.text if src.text is not None else "\n".join(src.blocks.lines) + "\n"
    return _with_provenance(report, text, src.line_pages, src.blocks.n_lines)


def parse_folder(folder: str | Path) -> Report:
    """The files of ``folder`` (see jixiao.read.bundle) as one report."""
    from ..read import SUFFIXES
    from ..read.bundle import bundle_sha256, read_bundle

    folder = Path(folder)
    files: list[tuple[str, bytes]] = []
    try:
        for f in sorted(folder.iterdir()):
            if f.name.startswith(".") or f.suffix.lower() not in SUFFIXES or not f.is_file():
                continue
            files.append((f.name, f.read_bytes()))
        src, parts = read_bundle(files)
    except OSError as exc:
        raise ReportError(f"cannot read the folder: {exc.strerror or exc}", None, str(folder)) from None
    except ReportError as exc:
        raise exc.with_source(str(folder)) from None
    sha = bundle_sha256(files)
    try:
        report = parse_blocks(src.blocks, source=str(folder), sha256=sha, encoding=src.encoding, source_format="bundle")
    except ReportError as exc:
        raise exc.with_source(str(folder)) from None
    report.source_text = src.text or ""
    report.line_pages = list(src.line_pages)
    report.parts = parts
    return report


def parse_docx_bytes(data: bytes, source: str = "<input>") -> Report:
    """Bytes the caller says are a .docx, read as one whatever they hold (parse_bytes sniffs)."""
    from .docx import read_docx

    blocks = read_docx(data)
    report = parse_blocks(blocks, source=source, sha256=sha256_bytes(data), encoding="docx", source_format="docx")
    return _with_provenance(report, "\n".join(blocks.lines) + "\n", [], blocks.n_lines)


def parse_text(text: str, source: str = "<input>", sha256: str | None = None, encoding: str = "utf-8") -> Report:
    if sha256 is None:
        sha256 = sha256_bytes(text.encode("utf-8"))
    blocks = read_tika(text)
    report = parse_blocks(blocks, source=source, sha256=sha256, encoding=encoding, source_format="tika-text")
    return _with_provenance(report, "\n".join(blocks.lines) + "\n", [], blocks.n_lines)


def _with_provenance(report: Report, text: str, line_pages: list, n_lines: int) -> Report:
    """The canonical text, the page of each line and the one file a single-file report was read from."""
    report.source_text = text
    report.line_pages = list(line_pages)
    report.parts = [SourcePart(report.source_file, report.source_sha256, report.source_format, 1, n_lines)]
    return report


# ---------------------------------------------------------------------------


def _is_caption(text: str, closer_is_caption: bool) -> bool:
    t = text.strip()
    if _CHROME.match(t):
        return False
    if _ATTACHMENT.match(t) or ident.YEAR_LINE.match(t):  # '（2023年度）' under a form's title
        return True
    if len(t) <= 60 and _TABLE_TITLE.search(t) and not _SENTENCE_END.search(t):
        return True
    if _UNIT_NOTE.match(t):
        return True
    # A title broken over two lines: '…2022年度部门整体支出' / '绩效评价基础数据表'.
    return closer_is_caption and len(t) <= 40 and not _PUNCT.search(t) and not t[:1].isdigit()


def _roles(blocks: list[Paragraph | TableBlock]) -> dict[int, str]:
    """Role of each paragraph (by block index): caption, note, title, identity, artefact, narrative."""
    roles: dict[int, str] = {}
    for t, b in enumerate(blocks):
        if not isinstance(b, TableBlock):
            continue
        k, closer = t - 1, False
        caption: list[str] = []
        while k >= 0 and isinstance(blocks[k], Paragraph) and k not in roles and _is_caption(blocks[k].text, closer):
            roles[k] = "caption"
            caption.insert(0, blocks[k].text)
            closer = True
            k -= 1
            if _ATTACHMENT.match(caption[0].strip()):
                break  # '附件2' opens the caption; what is above it is the narrative
        b.caption = caption
        k, points = t + 1, False
        while k < len(blocks) and isinstance(blocks[k], Paragraph) and (
                _NOTE.match(blocks[k].text) or (points and _NOTE_POINT.match(blocks[k].text))):
            roles[k] = "note"
            # A note opens a list ('填表说明：') or runs one on ('填表说明：1.…；2.…；' then '3.…').
            note = clean_text(blocks[k].text)
            points = points or note.endswith(("：", ":")) or bool(_NOTE_POINTS_INLINE.search(note))
            k += 1
    paras = [(i, b) for i, b in enumerate(blocks) if isinstance(b, Paragraph) and i not in roles]
    # Recognised on the text without invisible marks: a title line ending in a zero-width
    # space or holding a BEL is still the title (P10).
    texts = [clean_text(b.text) for _, b in paras]
    first_table = next((i for i, b in enumerate(blocks) if isinstance(b, TableBlock)), len(blocks))
    seen_title = seen_text = False
    for n, (i, b) in enumerate(paras):
        t = texts[n]
        if _CHROME.match(t):
            roles[i] = "front_matter" if not seen_text and i < first_table else "artefact"
        elif _FRONT.match(t) and (n < 8 or not seen_title):
            roles[i] = "front_matter"
        elif ident.TITLE_WORDS.search(t) and len(t) <= 60 and not numbering(t):
            roles[i] = seen_title = "title"
            if n > 0 and paras[n - 1][0] not in roles and ident.title_from(texts[n - 1:n + 1]) == (texts[n - 1] + t, 0):
                roles[paras[n - 1][0]] = "title"
        elif ident.FORM_TITLE.search(t) and len(t) <= 80 and not numbering(t) and not _PUNCT.search(t):
            roles[i] = seen_title = "title"  # a form published on its own: 部门整体支出绩效自评表
        elif ident.YEAR_LINE.match(t) and n > 0 and roles.get(paras[n - 1][0]) == "title":
            roles[i] = "title"  # its '（2023年度）' line
        elif ident.UNIT_LINE.match(t):
            roles[i] = "identity"
        elif _DATE.match(t) or _COVER.match(t):
            roles[i] = "artefact"
        else:
            seen_text = True
    for i, b in enumerate(blocks):
        if isinstance(b, Paragraph) and i not in roles:
            roles[i] = "narrative"
    return roles


def parse_blocks(bl: Blocks, source: str, sha256: str, encoding: str, source_format: str,
                 this_year: int | None = None) -> Report:
    """The model of one report from its blocks. ``this_year`` (default: the clock's) is the
    only input that is not in the file: it bounds a plausible fiscal year, and only decides
    whether an ``implausible_year`` warning is given (see identity.implausible_year)."""
    blocks = bl.blocks
    if not blocks:
        raise ReportError("no text in the file (only blank lines or markup)", 1)
    if ident.is_traditional(_block_texts(blocks)):
        return _parse_traditional(bl, source, sha256, encoding, source_format, this_year)
    roles = _roles(blocks)
    paragraphs = [b for b in blocks if isinstance(b, Paragraph)]
    narrative = [b for i, b in enumerate(blocks) if isinstance(b, Paragraph) and roles[i] == "narrative"]
    titles = [b for i, b in enumerate(blocks) if isinstance(b, Paragraph) and roles[i] == "title"]
    warnings: list[Issue] = []

    # --- tables
    report_tables: list[GenericTable] = []
    staffing = None
    expense_controls = []
    details = []
    evaluations = []
    table_blocks = [b for b in blocks if isinstance(b, TableBlock)]
    for seq, tbk in enumerate(table_blocks, 1):
        kind = tb.classify(tbk)
        if kind == "basic_data":
            res = tb.parse_basic_data(tbk, start_seq=len(expense_controls))
            staffing = staffing or res.staffing
        elif kind in ("evaluation", "third_party"):
            res = ev_table.parse_evaluation(tbk, seq=len(evaluations) + 1, third_party=kind == "third_party")
            evaluations.append(res.evaluation)
        elif kind == "three_public":
            res = tb.parse_three_public(tbk, start_seq=len(expense_controls))
        elif kind == "detail":
            res = tb.parse_detail(tbk, table_seq=seq)
            details.extend(res.details)
        else:
            res = tb.TableResult("generic")
            warnings.append(Issue(tbk.line_start, "unknown_table",
                                  f"未识别的表格（{len(tbk.rows)} 行），按单元格原样保留"))
        for row in [*res.expense_controls, *res.details, *([res.evaluation] if res.evaluation else [])]:
            row.money_unit = res.money_unit
        if res.money_unit != "万元":
            warnings.append(Issue(tbk.line_start, "money_in_yuan", "金额单位为元，发布时换算为万元"))
        expense_controls.extend(res.expense_controls)
        warnings.extend(res.warnings)
        report_tables.append(GenericTable(
            seq=seq, caption=" ".join(tbk.caption),
            rows=[[c.clean for c in r.cells] for r in tbk.rows],
            lines=[[c.line for c in r.cells] for r in tbk.rows],
            line_start=tbk.line_start, line_end=tbk.line_end, kind=kind, money_unit=res.money_unit,
        ))
    _check_truncated(table_blocks, bl.n_lines, warnings)

    known = [t for t in report_tables if t.kind != "generic"]
    if not titles and not known and not any("绩效" in p.text for p in paragraphs):
        first = next((b.line for b in blocks if isinstance(b, Paragraph)), table_blocks[0].line_start if table_blocks else 1)
        raise ReportError("not recognised as a performance report: no report title, no known table and no 绩效 "
                          "wording (another genre?)", first)
    basic_n = sum(1 for t in report_tables if t.kind == "basic_data")
    overall_n = sum(1 for e in evaluations if e.kind == "overall")
    if basic_n > 1 or overall_n > 1:
        warnings.append(Issue(table_blocks[-1].line_start, "multiple_reports",
                              f"文件中有 {basic_n} 张基础数据表、{overall_n} 张整体自评表：可能是多份报告合在一个文件里，"
                              "只有第一份的数字用于单位概况"))

    # --- narrative
    sections = build_sections(narrative)

    # --- identity
    title_text, title_line = "", titles[0].line if titles else 1
    if titles:
        # The first title block; a cover page may repeat it.
        first = titles[0].line
        run = [p for p in titles if p.line - first <= 3]
        # Invisible marks and control characters (a BEL inside 2023) are no part of the title (P10).
        title_text = "".join(clean_text(p.text) for p in run)
    kind = report_kind(evaluations, narrative, sections, title_text)
    forms = [e for e in evaluations if e.kind != "third_party"]
    if kind in FORM_KINDS and not title_text and forms:
        # A form on its own: its title is the table's caption (or its title rows).
        title_text, title_line = _form_title(forms[0], table_blocks), forms[0].line_start
    unit_name = None
    identity_lines: dict[str, int] = {}
    for i, b in enumerate(blocks):
        if isinstance(b, Paragraph) and roles[i] == "identity":
            name = ident.unit_in_line(clean_text(b.text))
            if name and not unit_name:
                unit_name, identity_lines["unit_name"] = name, b.line
    overall = next((e for e in evaluations if e.kind == "overall"), None)
    if not unit_name and overall and overall.unit_cell:
        unit_name, identity_lines["unit_name"] = overall.unit_cell, overall.line_start
    if not unit_name and kind == "项目支出绩效自评表":
        # The unit that carried the project out, else the one in charge of it.
        ev = next((e for e in forms if e.implementer or e.department), None)
        if ev:
            unit_name, identity_lines["unit_name"] = ev.implementer or ev.department, ev.line_start
    if not unit_name and title_text:
        unit_name = ident.unit_from_title(title_text)
        if unit_name and (titles or kind in FORM_KINDS):
            identity_lines["unit_name"] = title_line
    if not unit_name:
        warnings.append(Issue(1, "no_unit", "未找到单位名称"))

    year, year_line = (ident.year_from(title_text), title_line) if title_text else (None, 1)
    if year is None:
        # The caption, or a form's title rows (项目支出绩效自评表 / （2023年度）).
        titled = [(" ".join(tbk.caption), tbk.line_start) for tbk in table_blocks] + [(e.title, e.line_start) for e in evaluations]
        year, year_line = next(((y, ln) for t, ln in titled if (y := ident.year_from(t))), (None, 1))
    if year is None:
        years = [(int(m), c.line) for tbk in table_blocks for r in tbk.rows[:6] for c in r.cells
                 for m in _YEAR_COLUMN.findall(ident.arabic_years(c.clean))]
        year, year_line = max(years) if years else (None, 1)
    if year is None and kind in FORM_KINDS:  # a form's header cells: '2023年度预算数'
        years = [(int(m), c.line) for tbk in table_blocks for r in tbk.rows[:4] for c in r.cells
                 for m in _YEAR_OF.findall(ident.arabic_years(c.clean))]
        year, year_line = min(years) if years else (None, 1)
    if year is None:
        year = ident.most_common_year([p.text for p in narrative])
        if year is not None:
            year_line = next((p.line for p in narrative if str(year) in ident.arabic_years(p.text)), 1)
    if year is None:
        warnings.append(Issue(1, "no_year", "未找到年度"))
    elif (why := ident.implausible_year(year, this_year if this_year is not None else date.today().year)):
        warnings.append(Issue(year_line, "implausible_year", why))

    region = ident.find_region(unit_name or "", title_text, *(p.text for p in narrative[:20]))
    narrative_texts = [p.text for p in narrative]
    evaluator = ident.evaluator_in(narrative_texts[:40])
    if evaluator and kind == "自评报告":
        kind = "第三方评价报告"
    stated = ident.stated_score([(p.text, p.line) for p in narrative])
    projects = [e for e in evaluations if e.kind == "project"]
    report_id = make_report_id(year, unit_name, kind, sha256,
                               projects[0].project_name if kind == "项目支出绩效自评表" and len(projects) == 1 else None)

    # --- accounting: every source line ends up somewhere, and we can say where.
    fate: dict[int, str] = {}
    for tbk in table_blocks:
        for r in tbk.rows:
            for c in r.cells:
                for ln in range(c.line, c.line_end + 1):
                    fate[ln] = "cell"
    heading_lines = {s.line_start for s in sections if s.level > 0}
    for i, b in enumerate(blocks):
        if isinstance(b, Paragraph):
            role = roles[i]
            if role == "narrative":
                role = "heading" if b.line in heading_lines else "body"
            fate[b.line] = {"caption": "table_caption", "note": "table_note"}.get(role, role)
    for ln in bl.artefact_lines:
        fate[ln] = "artefact"
    unparsed: list[Unparsed] = []
    counts: Counter = Counter()
    for ln in range(1, bl.n_lines + 1):
        f = fate.get(ln)
        if f is None:
            text = bl.lines[ln - 1] if bl.lines else ""
            if clean_text(text) == "":
                f = "blank"
            else:
                f = "unparsed"
                unparsed.append(Unparsed(ln, text, "the reader placed this line in no block"))
        counts[f] += 1

    return Report(
        report_id=report_id, source_file=Path(source).name, source_sha256=sha256, source_format=source_format,
        encoding=encoding, title=title_text, unit_name=unit_name, fiscal_year=year,
        province=region.province, city=region.city, county=region.county, division_code=region.code,
        admin_level=region.admin_level, report_kind=kind, evaluator=evaluator, stated_score=stated,
        sections=sections, staffing=staffing, expense_controls=expense_controls, details=details,
        evaluations=evaluations, tables=report_tables, warnings=warnings, unparsed=unparsed,
        artefacts=dict(bl.artefacts), line_counts=dict(counts), identity_lines=identity_lines,
        other_lines=[OtherLine(b.line, fate[b.line], b.text) for i, b in enumerate(blocks)
                     if isinstance(b, Paragraph) and roles[i] != "narrative"],
    )


FORM_KINDS = ("项目支出绩效自评表", "部门整体支出绩效自评表")


def _block_texts(blocks):
    for b in blocks:
        if isinstance(b, Paragraph):
            yield b.text
        else:
            for r in b.rows:
                for c in r.cells:
                    yield c.text


def _parse_traditional(bl: Blocks, source: str, sha256: str, encoding: str, source_format: str,
                       this_year: int | None) -> Report:
    """A report printed in Traditional characters: recognised on a Simplified copy of its
    blocks, published with its printed text where it is shown as printed (see
    identity.to_simplified for what is converted and what is not)."""
    conv = ident.to_simplified

    def simplified(b):
        if isinstance(b, Paragraph):
            return Paragraph(conv(b.text), b.line)
        return TableBlock([Row([Cell(conv(c.text), c.line, c.line_end) for c in r.cells], r.line) for r in b.rows],
                          b.line_start, b.line_end, [conv(t) for t in b.caption])

    copy = Blocks(blocks=[simplified(b) for b in bl.blocks], artefacts=bl.artefacts,
                  artefact_lines=bl.artefact_lines, n_lines=bl.n_lines, lines=[conv(x) for x in bl.lines])
    # The copy is Simplified, so this does not come back here.
    report = parse_blocks(copy, source, sha256, encoding, source_format, this_year)
    printed = [b for b in bl.blocks if isinstance(b, TableBlock)]
    for table, tbk in zip(report.tables, printed):
        table.rows = [[c.clean for c in r.cells] for r in tbk.rows]
        table.caption = " ".join(tbk.caption)
    by_line = {ln: text for ln, text in enumerate(bl.lines, 1)}
    para = {b.line: b.text for b in bl.blocks if isinstance(b, Paragraph)}
    for o in report.other_lines:
        o.text = para.get(o.line, o.text)
    for u in report.unparsed:
        u.text = by_line.get(u.line, u.text)
    report.warnings.append(Issue(1, "traditional_chinese",
                                 "繁体中文报告：按简体识别；表格单元格与原文按原样保留，单位、标题、指标等识别结果为简体"))
    return report


def _form_title(ev, table_blocks: list[TableBlock]) -> str:
    """The title of a form: its caption without 附件N / 单位：万元 lines, or its title rows."""
    tbk = next((t for t in table_blocks if t.line_start == ev.line_start), None)
    lines = [clean_text(c) for c in (tbk.caption if tbk else [])]
    lines = [c for c in lines if c and not _ATTACHMENT.match(c) and not _UNIT_NOTE.match(c)]
    return "".join(lines) or "".join(clean_text(ev.title).split())
# Narrative text below this many characters (with no numbered heading) is no report body: the
# notes and leftovers around a form published on its own.
_NARRATIVE_MIN = 200


def report_kind(evaluations, narrative: list[Paragraph], sections, title_text: str) -> str:
    """自评报告 | 第三方评价报告 | 部门整体支出绩效自评表 | 项目支出绩效自评表.

    A form is a report of its own when it comes without a narrative: no numbered heading and
    only a few lines of text around the tables."""
    if any(e.kind == "third_party" for e in evaluations) or (
            title_text and "评价报告" in title_text and "自评" not in title_text):
        return "第三方评价报告"
    # A 一、/（一） heading makes a narrative; a lone numbered point (1. / ①) among the notes
    # around a form does not, unless there is a report's worth of text.
    has_narrative = any(0 < s.level <= 2 for s in sections) or \
        sum(len(clean_text(p.text)) for p in narrative) >= _NARRATIVE_MIN
    if evaluations and not has_narrative:
        return "部门整体支出绩效自评表" if any(e.kind == "overall" for e in evaluations) else "项目支出绩效自评表"
    return "自评报告"


def _check_truncated(tables: list[TableBlock], n_lines: int, warnings: list[Issue]) -> None:
    """A file that ends inside a table row was cut off.

    The signs: the last table runs to the end of the file, and its last row has fewer cells
    than the row before it. A 总分/合计 row is narrower by nature (its label spans the
    indicator columns), and so is a 自评等级 row under it, so neither is taken for a cut-off row: a complete file whose last
    line is the 总分 row's last cell (no blank line after it) is not truncated (P9). The
    price: a file cut inside its 总分 row is not detected.
    """
    if not tables:
        return
    last = tables[-1]
    if last.line_end < n_lines - 3 or len(last.rows) < 2:
        return
    width, before = len(last.rows[-1].cells), len(last.rows[-2].cells)
    if width >= before or ev_table.is_total_row(last.rows[-1]) or ev_table.is_closing_row(last.rows[-1]):
        return
    warnings.append(Issue(last.rows[-1].line, "truncated_table",
                          f"文件在表格行中间结束（该行 {width} 个单元格，上一行 {before} 个）：文件可能不完整"))
