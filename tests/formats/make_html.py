"""Regenerate the HTML fixtures: each sample's Tika text as a page saved from a government
portal, plus LibreOffice's own HTML export of one .docx.

A page has what real portal pages have around the report: a header with the site name and a
menu, a breadcrumb, the 索引号/发布机构/发布日期/文号 metadata table, the title in <h1> (and
again in the body), page tools (字号, 打印本页), share buttons and a footer (版权所有,
网站标识码, ICP备), the whole laid out in a table with the report inside a cell. Narrative
lines are <p>s with &nbsp; indents and inline <span>s; each table is a <table border=1> with
Word's merges as real rowspan/colspan. 001 is GB18030 bytes declaring gb2312, with a
character GB2312/GBK do not have in its chrome.

    .venv/bin/python -m tests.formats.make_html
"""
from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from jixiao.model import TableBlock
from jixiao.parse import parse_text
from jixiao.parse.tika import read_tika

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "formats" / "html"
DOCX = ROOT / "tests" / "fixtures" / "formats" / "docx"
GB_STEM = "001_7a3827d77ccb6050"
LO_STEM = "002_8bb91333aa9035c9"
RARE = "\U00020000"  # 𠀀: four bytes in GB18030, absent from GB2312 and GBK


def esc(s: str) -> str:
    return html.escape(s, quote=False)


def paragraph(text: str, n: int) -> str:
    """A narrative line as a portal editor writes it: indented, split into inline spans."""
    parts = re.split(r"(?<=[、，。；：])", text)
    spans = "".join(f"<span>{esc(p)}</span>" for p in parts if p)
    indent = "&nbsp;&nbsp;&nbsp;&nbsp;" if n % 2 else "&nbsp;&nbsp;"
    return f'<p style="text-indent:2em">{indent}{spans}</p>'


def cell_html(text: str, n: int) -> str:
    lines = [s for s in text.split("\n") if s.strip(" \u3000\xa0")]
    if not lines:
        return "&nbsp;"  # an empty or blank cell, as portal editors fill them
    if len(lines) == 1:
        return esc(lines[0])
    if n % 2:  # some editors break lines with <br>, others with <p>
        return "<br>".join(esc(s) for s in lines)
    return "".join(f"<p>{esc(s)}</p>" for s in lines)


def table_html(tbk: TableBlock) -> str:
    """Rows shorter than the table end in a colspan; an empty cell directly under a cell of
    the same columns in the first three columns (一级指标 / 二级指标 …) continues it as a rowspan."""
    rows = [[c.text for c in r.cells] for r in tbk.rows]
    width = max(len(r) for r in rows)
    pos = [[(k, 1 if k + 1 < len(r) else width - k) for k in range(len(r))] for r in rows]
    rowspan: dict[tuple[int, int], int] = {}
    covered: set[tuple[int, int]] = set()
    anchor: dict[tuple[int, int], tuple[int, int]] = {}
    for r in range(1, len(rows)):
        for k in range(min(3, len(rows[r]))):
            if rows[r][k] != "" or k >= len(rows[r - 1]) or pos[r][k] != pos[r - 1][k]:
                continue
            top = anchor.get((r - 1, k), (r - 1, k))
            rowspan[top] = rowspan.get(top, 1) + 1
            anchor[(r, k)] = top
            covered.add((r, k))
    out = ['<table border="1" cellspacing="0" cellpadding="4" class="MsoTableGrid">', "<tbody>"]
    n = 0
    for r, row in enumerate(rows):
        tds = []
        for k, text in enumerate(row):
            if (r, k) in covered:
                continue
            n += 1
            attrs = ""
            if rowspan.get((r, k), 1) > 1:
                attrs += f' rowspan="{rowspan[(r, k)]}"'
            if pos[r][k][1] > 1:
                attrs += f' colspan="{pos[r][k][1]}"'
            tds.append(f'<td{attrs} valign="middle">{cell_html(text, n)}</td>')
        out.append("<tr>" + "".join(tds) + "</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def title_of(text: str) -> str:
    """The page title a portal gives the article: the report's own title, else one made
    from its unit and year (003 has no title line; 002 has it after the tables)."""
    report = parse_text(text, source="sample.txt")
    return report.title or f"{report.unit_name}{report.fiscal_year}年度部门整体支出绩效自评报告"


def page(stem: str, text: str, charset: str) -> str:
    blocks = read_tika(text).blocks
    title = title_of(text)
    city = re.search(r"([\u4e00-\u9fff]{2}市)", "".join(text.split("\n")[:30]))
    city = city.group(1) if city else "某市"
    site = city + "人民政府门户网站"
    body = []
    for n, b in enumerate(blocks):
        body.append(table_html(b) if isinstance(b, TableBlock) else paragraph(b.text, n))
    rare = RARE if charset == "gb2312" else ""
    menu = "".join(f'<li><a href="/{k}/">{m}</a></li>' for k, m in
                   enumerate(["首页", "政务公开", "政务服务", "互动交流", "走进" + site[:3]]))
    side = "".join(f'<li><a href="/xxgk/{k}/">{m}</a></li>' for k, m in
                   enumerate(["机构职能", "政策文件", "财政信息", "人事信息"]))
    return f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta charset="{charset}">
<title>{esc(title)}_{site}</title>
<link rel="stylesheet" href="/css/style.css">
<style>.nav li {{ float: left }} p {{ line-height: 2 }}</style>
<script type="text/javascript">var _hmt = _hmt || []; document.write("<p>脚本</p>");</script>
</head>
<body>
<div class="header">
  <div class="logo"><img src="/images/logo.png" alt="{site}">{site}{rare}</div>
  <ul class="nav-menu">{menu}</ul>
</div>
<table width="1000" align="center" cellpadding="0" cellspacing="0" border="0">
<tr>
<td width="200" valign="top" class="left-sidebar"><h3>信息公开目录</h3><ul>{side}</ul></td>
<td valign="top">
<div class="position">您现在的位置：首页 &gt; 政务公开 &gt; 财政信息{rare}</div>
<table class="xxgk-meta" width="100%" border="0">
<tr><td>索引号：</td><td>43060{stem[:3]}/2024-0{stem[1:3]}18</td><td>发布机构：</td><td>{city}财政局</td></tr>
<tr><td>发布日期：</td><td>2024-06-2{stem[2]}</td><td>文号：</td><td>&nbsp;</td></tr>
</table>
<h1 class="article-title">{esc(title)}</h1>
<div class="article-tools">字号：【<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】 浏览次数：1{stem[2]}6</div>
<div class="article-content" id="zoom">
{chr(10).join(body)}
</div>
<div class="bdshare">分享到：<a href="#">微信</a> <a href="#">微博</a></div>
<div class="article-print">【<a href="javascript:window.print()">打印本页</a>】 【<a href="javascript:window.close()">关闭窗口</a>】</div>
</td>
</tr>
</table>
<div class="footer">
<p>版权所有：{site[:-2]}{rare} 主办：{city}人民政府办公室</p>
<p>网站标识码：4306000001 湘ICP备05001234号-1 湘公网安备 43060202000123号</p>
</div>
<script>window.onload = function () {{ alert("hi") }}</script>
</body>
</html>
"""


def lo_export(stem: str) -> None:
    """LibreOffice's HTML export of the .docx fixture (a different writer of the same report)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        print("soffice not found: the LibreOffice HTML variant is not regenerated")
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([exe, "--headless", f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}",
                        "--convert-to", "html", "--outdir", tmp, str(DOCX / f"{stem}.docx")],
                       check=True, capture_output=True)
        shutil.copyfile(Path(tmp) / f"{stem}.html", OUT / f"{stem}.lo.html")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "reports").glob("*.txt")):
        charset = "gb2312" if path.stem == GB_STEM else "utf-8"
        text = page(path.stem, path.read_text("utf-8"), charset)
        data = text.encode("gb18030" if charset == "gb2312" else "utf-8")
        (OUT / f"{path.stem}.html").write_bytes(data)
        print(f"{path.stem}.html: {len(data)} bytes ({charset})")
    lo_export(LO_STEM)


if __name__ == "__main__":
    main()
