"""HTML pages saved from a government portal → the canonical Tika layout (jixiao.read.layout).

A portal page wraps the report in chrome (site header, menus, breadcrumbs, a metadata table,
share buttons, a footer) and often lays the page out with tables, the report inside a cell.
The reader decodes the bytes (declared charset first, GB2312/GBK read as GB18030), drops the
chrome it can identify by structure, descends into layout tables, and emits one Para per
block element and one Grid per leaf data table, rowspan/colspan resolved like Word merges.
"""
from __future__ import annotations

import codecs
import re
from collections import Counter

import lxml.etree
import lxml.html
from charset_normalizer import from_bytes

from ..errors import ReportError
from .layout import Grid, Para, Rendered, render, resolve_spans

MAX_BYTES = 50 * 1024 * 1024
MAX_TAGS = 1_000_000  # counted as "<" before parsing: a real portal page has a few thousand
MAX_DEPTH = 300  # libxml2 itself stops nesting at 256 unless told otherwise
MAX_GRID = 500_000  # cells of one table once spans are resolved
MAX_SPAN = 200  # colspan is capped by the HTML spec at 1000; a report table is far narrower

_BR = "\x0b"  # a <br> or block break inside collected text; render() reads it as a line end
_GB = {"gb2312", "gbk", "gb18030", "cp936", "x-gbk", "gb-2312", "gb_2312-80", "csgb2312", "euc-cn",
       "x-euc-cn", "ms936", "windows-936", "chinese", "iso-ir-58", "csiso58gb231280"}
_WESTERN = {"cp1252", "iso8859-15", "latin-1", "iso8859-1", "ascii"}
_META = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.:-]+)", re.I)

_DROP = {"script": "html_script", "style": "html_script", "noscript": "html_script", "template": "html_script",
         "head": "html_head", "title": "html_head", "meta": "html_head", "link": "html_head",
         "iframe": "html_widget", "object": "html_widget", "embed": "html_widget", "svg": "html_widget",
         "canvas": "html_widget", "select": "html_widget", "button": "html_widget", "input": "html_widget",
         "textarea": "html_widget", "audio": "html_widget", "video": "html_widget", "map": "html_widget",
         "nav": "html_chrome", "header": "html_chrome", "footer": "html_chrome", "aside": "html_chrome"}
_CHROME_WORDS = {"nav", "navbar", "navigation", "menu", "menubar", "submenu", "breadcrumb", "breadcrumbs", "crumb",
                 "crumbs", "bread", "footer", "foot", "header", "head", "top", "topbar", "bottom", "share", "bdshare",
                 "sidebar", "side", "position", "location", "dqwz", "copyright", "banner", "toolbar", "print"}
# Class words that mark the article itself: "article-header" holds the title, not chrome.
_CONTENT_WORDS = {"article", "content", "detail", "main", "text", "con", "zw", "body", "news", "info", "title",
                  "xxgk", "wz", "doc", "report"}
_CLASS_CHECKED = {"div", "section", "ul", "ol", "dl", "table", "span", "p", "center", "td", "form"}
_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "ul", "ol", "dl", "blockquote", "pre",
          "section", "article", "main", "center", "address", "figure", "figcaption", "hr", "form", "fieldset",
          "legend", "caption", "body", "html", "tr", "td", "th", "thead", "tbody", "tfoot", "details", "summary"}
_HEAVY = {"h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"}

# Chrome printed as a line of its own (when no element marks it): breadcrumbs, page tools, footer.
_CHROME_LINE = re.compile(
    r"^(您现在的位置|您当前的位置|当前位置|您的位置|所在位置|现在位置)\s*[：:]|打印本页|关闭窗口|【\s*(打印|关闭)\s*】"
    r"|字号\s*[：:]?\s*[【\[]?\s*大\s*中\s*小|网站标识码|ICP\s*备|版权所有|Copyright|©|公网安备|网站地图"
    r"|设为首页|加入收藏|^分享到|^访问量\s*[：:]|^(主办|承办)单位\s*[：:]|^技术支持\s*[：:]")
# Portal metadata labels (索引号 … 时效性); a table holding two or more is front matter.
_META_LABELS = {"索引号", "信息索引号", "发布机构", "发布单位", "发布日期", "发布时间", "文号", "发文字号", "主题分类",
                "时效性", "有效性", "成文日期", "生效日期", "信息来源", "来源", "公开方式", "公开范围", "公开时限",
                "公开形式", "发文机关", "发文日期", "主题词", "关键词", "体裁分类", "组配分类", "服务对象", "所属机构",
                "信息类别", "名称", "标题", "信息名称", "内容概述", "分类", "浏览次数", "公开日期", "公开时间"}
_PORTAL_LABELS = {"索引号", "信息索引号", "发布机构", "发布日期", "发布时间", "主题分类", "时效性", "成文日期", "文号",
                  "发文字号"}
_FRONT_LABEL = re.compile(r"^\s*(" + "|".join(sorted(_META_LABELS, key=len, reverse=True)) + r")\s*[：:]")
_WS = re.compile(r"[ \t\r\n\f]+")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
# A source line break between two CJK characters is no space (CSS Text 3 segment breaks):
# editors wrap long Chinese lines, and a space inside 绩效 would split words.
_CJK_BREAK = re.compile(f"(?<=[{_CJK}])[ \t\r\f]*\n[ \t\r\n\f]*(?=[{_CJK}])")


# ---------------------------------------------------------------- bytes → text


def _codec(name: bytes | str) -> str | None:
    name = (name.decode("ascii", "ignore") if isinstance(name, bytes) else name).strip().lower()
    if name in _GB:
        return "gb18030"  # pages declare gb2312 and hold GB18030-only characters
    try:
        found = codecs.lookup(name).name
    except LookupError:
        return None
    if found in ("gb2312", "gbk"):
        return "gb18030"
    if found == "big5":
        return "big5hkscs"
    if found.startswith("utf-16") or found.startswith("utf-32"):
        return "utf-8"  # a declaration read from ASCII bytes cannot be UTF-16 (HTML spec)
    if found in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"  # what browsers read for them
    return found


def decode_html(data: bytes) -> tuple[str, str]:
    """(text, encoding): BOM, then the declared charset, then detection; never raises."""
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                     (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace"), enc
    head = data[:16384]
    m = _XML_DECL.match(head) or _META.search(head)
    declared = _codec(m.group(1)) if m else None
    non_ascii = len(re.findall(rb"[\x80-\xff]", data[:1 << 20]))
    # A page that is valid UTF-8 with real multibyte text is UTF-8 whatever it declares
    # (templates keep a stale gb2312 meta); GBK text is almost never valid UTF-8. A Western
    # single-byte declaration reads any bytes, so on these Chinese pages it is a server
    # default, not a statement: GB18030 goes before it.
    tries = ["utf-8"] if non_ascii >= 8 else []
    if declared in _WESTERN:
        tries.append("gb18030")
    tries += [declared] if declared else []
    tries += ["utf-8", "gb18030"]
    for enc in dict.fromkeys(tries):
        try:
            return data.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    best = from_bytes(data[:1_000_000]).best()
    if best is not None:
        enc = _codec(best.encoding) or "utf-8"
        return data.decode(enc, errors="replace"), enc
    return data.decode(declared or "utf-8", errors="replace"), (declared or "utf-8") + " (replaced)"


# ---------------------------------------------------------------- the tree


def _tag(el) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def _words(el) -> set[str]:
    raw = f"{el.get('class') or ''} {el.get('id') or ''}"
    raw = re.sub(r"([a-z])([A-Z])", r"\1 \2", raw).lower()
    return set(re.split(r"[^a-z0-9]+", raw)) - {""}


def _is_chrome_class(el) -> bool:
    if _tag(el) not in _CLASS_CHECKED or (el.get("class") is None and el.get("id") is None):
        return False
    words = _words(el)
    return bool(words & _CHROME_WORDS) and not words & _CONTENT_WORDS


def _strip(body, art: Counter) -> None:
    """Drop scripts, head matter, widgets and chrome (counted by kind). A chrome candidate
    holding a large part of the page's text is kept: then it is the content, misnamed."""
    total = len(body.text_content())
    doomed = []
    for el in body.iter():
        if not isinstance(el.tag, str):
            doomed.append((el, "html_comment"))
            continue
        tag = _tag(el)
        if tag in _DROP:
            # An HTML5 <article> has its own <header> (title, date) and <footer>: content.
            if tag in ("header", "footer") and any(_tag(a) in ("article", "main") for a in el.iterancestors()):
                continue
            doomed.append((el, _DROP[tag]))
        elif _is_chrome_class(el):
            doomed.append((el, "html_chrome"))
    gone: set[int] = set()
    for el, kind in doomed:
        if el.getparent() is None or any(id(a) in gone for a in el.iterancestors()):
            continue  # inside something already dropped
        if kind == "html_chrome" and len(el.text_content()) > max(1000, total * 0.3):
            art["html_chrome_kept"] += 1
            continue
        art[kind] += 1
        gone.add(id(el))
        el.drop_tree()  # keeps the element's tail text


def _rows(table) -> list:
    """The table's own rows (not those of tables nested in its cells)."""
    rows = []
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            rows.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            rows.extend(tr for tr in child if _tag(tr) == "tr")
    return rows


def _cells(tr) -> list:
    return [td for td in tr if _tag(td) in ("td", "th")]


def _span(value: str | None, cap: int) -> int:
    if value is None:
        return 1
    m = re.match(r"\s*(\d+)", value)
    return max(0, min(int(m.group(1)), cap)) if m else 1


def _collapse(text: str) -> list[str]:
    """Collected text → its lines, whitespace collapsed as a browser does."""
    text = _WS.sub(" ", _CJK_BREAK.sub("", text))
    return [s.strip(" \xa0\u3000") for s in text.split(_BR) if s.strip(" \xa0\u3000")]


def _label(text: str) -> str:
    return re.sub(r"[\s\u3000\xa0]+", "", text).rstrip("：:")


# ---------------------------------------------------------------- walking


class _Walk:
    """Collects Para/Grid items in reading order. In a data cell (``in_cell``) nested tables
    are flattened into lines and no line is dropped as chrome."""

    def __init__(self, art: Counter, in_cell: bool = False) -> None:
        self.items: list[Para | Grid] = []
        self.buf: list[str] = []
        self.art = art
        self.in_cell = in_cell
        self.pre = 0

    def flush(self) -> None:
        lines = _collapse("".join(self.buf))
        self.buf = []
        for s in lines:
            if not self.in_cell and len(s) <= 150 and _CHROME_LINE.search(s) and not _FRONT_LABEL.match(s):
                self.art["html_chrome_line"] += 1
                continue
            self.items.append(Para(s))

    def text(self, s: str | None) -> None:
        if s:
            self.buf.append(s.replace("\n", _BR) if self.pre else s)

    def node(self, el, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ReportError(f"the HTML page nests elements more than {MAX_DEPTH} deep", None)
        tag = _tag(el)
        if tag == "br":
            self.buf.append(_BR)
        elif tag == "table":
            self.flush()
            self.table(el, depth)
            self.flush()
        elif tag in _BLOCK:
            self.flush()
            self.pre += tag == "pre"
            self.children(el, depth)
            self.pre -= tag == "pre"
            self.flush()
        elif tag:
            self.children(el, depth)

    def children(self, el, depth: int) -> None:
        self.text(el.text)
        for child in el:
            self.node(child, depth + 1)
            self.text(child.tail)

    def table(self, table, depth: int) -> None:
        rows = _rows(table)
        for cap in table.xpath("./caption"):
            self.node(cap, depth + 1)
        if not self.in_cell and self.metadata(rows):
            return
        if self.in_cell or _is_layout(table, rows):
            # Layout: each cell is a block of the page (in a data cell: lines of the cell).
            for tr in rows:
                for td in _cells(tr):
                    self.node(td, depth + 2)
            return
        self.items.append(Grid(self.grid(rows, depth)))

    def metadata(self, rows: list) -> bool:
        """A portal's metadata table (索引号 | xxx | 发布机构 | xxx …) → "索引号：xxx" lines."""
        if not rows or len(rows) > 12:
            return False
        cells = [td for tr in rows for td in _cells(tr)]
        texts = [" ".join(_collapse(td.text_content())) for td in cells]
        hits = {_label(t.split("：")[0].split(":")[0]) for t in texts} & _META_LABELS
        # Two labels, one only a portal uses: a report table may well hold 名称 and 分类.
        if len(hits) < 2 or not hits & _PORTAL_LABELS or any(td.find(".//table") is not None for td in cells):
            return False
        k = 0
        while k < len(texts):
            t = texts[k]
            if _label(t) in _META_LABELS:  # a label cell: its value is the next cell
                value = texts[k + 1] if k + 1 < len(texts) else ""
                if _label(value) in _META_LABELS and value.rstrip().endswith(("：", ":")):
                    value = ""  # the next cell is another label: this one is empty
                else:
                    k += 1
                self.items.append(Para(f"{_label(t)}：{value}"))
            elif t:
                self.items.append(Para(t))
            k += 1
        self.art["html_metadata_table"] += 1
        return True

    def grid(self, rows: list, depth: int) -> list[list]:
        """The full grid of a data table, each position's covering cell resolved."""
        origin: dict[tuple[int, int], tuple[int, int]] = {}
        texts: dict[tuple[int, int], str] = {}
        work = 0  # positions visited: overlapping spans (a table-model error) must not multiply it
        for r, tr in enumerate(rows):
            c = 0
            for td in _cells(tr):
                while (r, c) in origin:
                    c += 1
                cs = max(1, _span(td.get("colspan"), MAX_SPAN))
                rs = _span(td.get("rowspan"), len(rows) - r) or (len(rows) - r)  # rowspan=0: to the end
                work += rs * cs
                if (r + rs) * (c + cs) > MAX_GRID or work > 2 * MAX_GRID:
                    raise ReportError(f"an HTML table is too large (over {MAX_GRID} cells)", None)
                if len(td) == 0:  # text only: the common cell, no walk needed
                    texts[(r, c)] = "\n".join(_collapse(td.text or ""))
                else:
                    sub = _Walk(self.art, in_cell=True)
                    sub.children(td, depth + 2)
                    sub.flush()
                    texts[(r, c)] = "\n".join(p.text for p in sub.items if isinstance(p, Para))
                for dr in range(rs):
                    for dc in range(cs):
                        origin.setdefault((r + dr, c + dc), (r, c))
                c += cs
        width = max((c + 1 for _, c in origin), default=0)
        if len(rows) * width > MAX_GRID:
            raise ReportError(f"an HTML table is too large (over {MAX_GRID} cells)", None)
        full_texts: list[list[str | None]] = []
        full_origin: list[list[tuple[int, int]]] = []
        for r in range(len(rows)):
            trow, orow = [], []
            for c in range(width):
                o = origin.get((r, c))
                if o is None:
                    # A short row without colspan: its last cell reaches the edge, as a
                    # Word row with fewer cells does; a row with no cell of its own is empty.
                    left = orow[-1] if orow and orow[-1][0] == r else (r, c)
                    o = left
                trow.append(texts.get((r, c)))
                orow.append(o)
            full_texts.append(trow)
            full_origin.append(orow)
        return resolve_spans(full_texts, full_origin)


def _heavy(td) -> bool:
    """A cell holding part of a page (headings, lists, a long nested table, several blocks),
    not a value: a small table inside a data cell is the cell's value, flattened."""
    if len(td) == 0:
        return False  # the common data cell: text only
    for d in td.iterdescendants():
        tag = _tag(d)
        if tag in _HEAVY or (tag == "table" and len(d.text_content()) > 200):
            return True
    return sum(1 for c in td if _tag(c) in ("p", "div")) >= 3


def _is_layout(table, rows: list) -> bool:
    """A table that lays out the page rather than holding data: its cells hold other tables,
    headings or lists and it has no two rows of side-by-side text cells; or it is one column
    wide; or it is a single row whose cell holds a block of text (sidebar | content)."""
    if (table.get("role") or "").lower() == "presentation":
        return True
    cells = [_cells(tr) for tr in rows]
    if not any(cells):
        return True
    if max(len(cs) for cs in cells) <= 1:
        return True
    heavy, grid_rows = False, 0
    for cs in cells:
        texts = 0
        for td in cs:
            if _heavy(td):
                heavy = True
            elif td.text_content().strip():
                texts += 1
        grid_rows += texts >= 2
        if grid_rows >= 2:
            return False  # rows of side-by-side values: data, whatever else its cells hold
    if heavy:
        return True
    if len(rows) == 1:
        return any(len(td.text_content()) > 500 or len(td.xpath("./p|./div")) >= 3 for td in cells[0])
    return False


def _drop_repeated_title(items: list, art: Counter) -> list:
    """A portal prints the article title (its <h1>) above the document, which opens with the
    same title, often over two lines: keep the document's own lines, drop the portal's copy."""
    def squash(s: str) -> str:
        return re.sub(r"[\s\u3000\xa0]+", "", s)

    for i, it in enumerate(items[:30]):
        if not isinstance(it, Para) or len(squash(it.text)) < 6:
            continue
        for k in (1, 2, 3):
            nxt = items[i + 1:i + 1 + k]
            if len(nxt) == k and all(isinstance(p, Para) for p in nxt) \
                    and squash("".join(p.text for p in nxt)) == squash(it.text):
                art["html_repeated_title"] += 1
                return items[:i] + items[i + 1:]
    return items


def read_html(data: bytes) -> Rendered:
    if len(data) > MAX_BYTES:
        raise ReportError(f"the HTML page is larger than {MAX_BYTES // (1024 * 1024)} MB", None)
    if data.count(b"<") > MAX_TAGS:
        raise ReportError(f"the HTML page has more than {MAX_TAGS} tags", None)
    text, encoding = decode_html(data)
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)  # also frees _BR for our own use
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    art: Counter = Counter()
    if not text.strip():
        raise ReportError("the HTML page is empty", 1)
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ReportError(f"the HTML page cannot be parsed: {exc}", 1) from None
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        # libxml2 stops reading past 256 levels of nesting: what follows would be lost silently.
        raise ReportError("the HTML page nests elements too deep (over 256 levels) to be read", None)
    body = root.find("body")
    if body is None:
        body = root
    for head in root.findall("head"):
        art["html_head"] += 1
        head.drop_tree()
    _strip(body, art)
    walk = _Walk(art)
    walk.node(body, 0)
    walk.flush()
    items = _drop_repeated_title(walk.items, art)
    has_text = any(isinstance(i, Para) or any(isinstance(c, str) and c.strip() for row in i.rows for c in row)
                   for i in items)
    if not has_text:
        raise ReportError("the HTML page has no body text (only markup, scripts or site chrome)", 1)
    return render(items, art, encoding)
