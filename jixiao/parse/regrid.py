"""Rows for tables whose text lost its row breaks: inferred from what the cells say.

Two problems, both pure functions on cell texts (the readers in tika.py keep the lines):

* :func:`stream_rows` — a stream of cells with no row ends (one cell per line ending in
  `` |``; one cell per blank-separated line copied from a web page). A header row is found
  by its vocabulary (vocab/headers.yml); its width is its vocabulary run plus the label
  cells before it, chosen so that the rows after it fit (numbers under numeric headers,
  labels in label columns) and end exactly where the next anchor starts (a header, an
  identity label such as 项目名称, a 总分 row). What lies between sections (the 按收入性质
  rows, 年度总体目标) is split at identity labels and by its period.
* :func:`place_fields` — a row whose empty cells vanished (space-separated text): each
  field goes to a column by order and by type, using the header's keys.

Nothing here reads files; indices into the caller's list are returned.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import vocab

SECTIONS = ("indicator_columns", "funds_columns", "basic_data_columns", "staffing_columns", "three_public_columns")
NUMERIC_KEYS = {"initial_budget", "full_year_budget", "executed", "weight", "execution_rate", "score", "prev_final",
                "budget", "final", "final_by_year", "authorized", "actual", "control_rate", "deviation", "amount"}
LABEL_KEYS = {"level1", "level2", "level3", "item"}
TEXT_KEYS = {"note", "standard"}  # free text: a figure there is more likely a shifted 得分
_NUM = re.compile(r"[≥≤<>＞＜=＝]?[-+]?\d[\d,]*(?:\.\d+)?(?:%|％|万元|元|分|人|个|件)?")
_DASH = {"——", "—", "-", "--", "－", "/", "无"}
_SCOREISH = re.compile(r"^.{0,10}(扣分|酌情|计分).{0,4}$")  # a short 酌情扣分 in 分值 is still the 分值 column
_LEVEL1 = re.compile(r"^(产出|效益|满意度|投入|过程|效果)(指标)?([（(]\d+(?:\.\d+)?分[）)])?$|[（(]\d+(?:\.\d+)?分[）)]$")
MAX_LEAD = 3


def kind(text: str) -> str:
    """E (empty), N (a number or a dash: a value), T (text)."""
    s = text.replace(" ", "")
    if not s:
        return "E"
    if s in _DASH or _NUM.fullmatch(s):
        return "N"
    return "T"


@dataclass
class Header:
    start: int  # first vocabulary cell
    end: int  # one past the last
    section: str
    keys: list[str]  # one per cell of the run
    family: str  # eval | third | basic | three | detail


def _accept(section: str, keys: list[str]) -> bool:
    ks = set(keys)
    if section == "indicator_columns":
        return "level1" in ks and len(ks) >= 3
    if section == "funds_columns":
        return len(ks & {"initial_budget", "full_year_budget", "executed"}) >= 2
    if section == "basic_data_columns":
        return len(keys) >= 3
    if section == "staffing_columns":
        return "authorized" in ks and bool(ks & {"actual", "control_rate"})
    return "deviation" in ks and len(ks) >= 3  # three_public_columns


def _family(section: str, keys: list[str]) -> str:
    if section == "indicator_columns":
        return "third" if "standard" in keys and not {"target", "actual"} & set(keys) else "eval"
    return {"funds_columns": "eval", "basic_data_columns": "basic", "staffing_columns": "basic",
            "three_public_columns": "three"}[section]


def find_headers(texts: list[str]) -> list[Header]:
    """Runs of header vocabulary, one per header row, in order and not overlapping."""
    found: list[Header] = []
    for section in SECTIONS:
        i, n = 0, len(texts)
        while i < n:
            j = i
            keys: list[str] = []
            while j < n and len(texts[j]) <= 40 and (k := vocab.lookup(section, texts[j])):
                keys.append(k)
                j += 1
            if keys and _accept(section, keys):
                found.append(Header(i, j, section, keys, _family(section, keys)))
            i = max(j, i + 1)
    for i, t in enumerate(texts):  # 序号 | 支出项目 | 金额（万元）: the detail table
        if vocab.normalise_label(t) == "序号":
            for j in range(i + 1, min(i + 4, len(texts))):
                if "金额" in texts[j]:
                    found.append(Header(i, j + 1, "detail", ["seq"] + ["item"] * (j - i - 1) + ["amount"], "detail"))
                    break
    found.sort(key=lambda h: (-(h.end - h.start), h.start))
    kept: list[Header] = []
    for h in found:
        if all(h.end <= k.start or h.start >= k.end for k in kept):
            kept.append(h)
    return sorted(kept, key=lambda h: h.start)


def identity_key(text: str) -> str | None:
    return vocab.lookup("evaluation_identity", text) if len(text) <= 20 else None


def is_total(text: str) -> bool:
    s = vocab.normalise_label(text)
    return any(s == w or (s.startswith(w) and re.fullmatch(r"[\d.]+", s[len(w):] or "x")) for w in vocab.words("total_rows"))


def is_closing(text: str) -> bool:
    """A form's closing label under its 总分: 自评等级, 评价结论 …"""
    return len(text) <= 20 and vocab.normalise_label(text) in vocab.words("closing_rows")


def column_kinds(lead: int, keys: list[str]) -> list[str]:
    """N (numeric), L (label) or A (anything) for each column of a header row."""
    numeric = {"weight", "score"} if "level1" in keys else NUMERIC_KEYS  # an indicator's 实际完成值 is any text
    out = ["A"] * lead + ["N" if k in numeric else "L" if k in LABEL_KEYS else "X" if k in TEXT_KEYS else "A"
                          for k in keys]
    if lead and not (LABEL_KEYS & set(keys)):
        out[lead - 1] = "L"  # the row label sits under the last lead cell (经费控制情况, 项目资金)
    return out


def _violations(kinds: list[str], cols: list[str], texts: list[str]) -> int:
    v = 0
    for k, c, t in zip(kinds, cols, texts):
        if c == "N" and k == "T" and not _SCOREISH.search(t):
            v += 1
        elif c == "L" and k == "N" and t not in _DASH:
            v += 2
    return v


class _Stream:
    def __init__(self, texts: list[str]) -> None:
        self.t = texts
        self.k = [kind(x) for x in texts]
        self.heads = find_headers(texts)
        self.head_at = {h.start: h for h in self.heads}
        self.in_head = {i for h in self.heads for i in range(h.start, h.end)}
        self.ident = {i: identity_key(x) for i, x in enumerate(texts)}

    def anchor(self, i: int, indicator: bool) -> bool:
        return i in self.in_head or bool(self.ident.get(i)) or (indicator and is_total(self.t[i]))

    def chunks(self, e: int, w: int, cols: list[str], stop: int, indicator: bool) -> tuple[int, int]:
        """How many rows of width w fit from e (before ``stop``), and their violations."""
        k = v = 0
        p = e
        while p + w <= stop:
            if self.anchor(p, indicator) or any(self.anchor(q, False) for q in range(p + 1, p + w)):
                break
            vv = _violations(self.k[p:p + w], cols, self.t[p:p + w])
            if vv > 1:
                break
            k, v, p = k + 1, v + vv, p + w
        return k, v

    def exact(self, p: int, stop: int, indicator: bool) -> bool:
        """Rows end where something new starts: an anchor, the end, or a short lead before a header."""
        if p >= len(self.t) or self.anchor(p, indicator):
            return True
        nxt = next((h for h in self.heads if h.start >= p), None)
        return nxt is not None and nxt.start - p <= MAX_LEAD and all(self.k[q] != "N" for q in range(p, nxt.start))


def split_region(texts: list[str], idx: list[int]) -> list[list[int]]:
    """Rows for cells between sections: a new row at each identity label (实施单位 stays in the
    row of 主管部门) or total label, then each group cut by its period when every row after the
    first starts with an empty cell (a merged label column)."""
    groups: list[list[int]] = []
    for i in idx:
        key = identity_key(texts[i])
        if not groups or (key and key != "implementer") or is_total(texts[i]):
            groups.append([i])
        else:
            groups[-1].append(i)
    rows: list[list[int]] = []
    for g in groups:
        n = len(g)
        for p in range(2, min(12, n // 2) + 1):
            if n % p == 0 and all(kind(texts[g[q]]) == "E" for q in range(p, n, p)):
                rows.extend(g[q:q + p] for q in range(0, n, p))
                break
        else:
            rows.append(g)
    return rows


def _short(text: str) -> bool:
    return len(text) <= 30 and text.count("\n") <= 2 and not re.search(r"[。；;]", text)


def stream_rows(texts: list[str], open_end: bool = False) -> list[tuple[str, list[list[int]]]] | None:
    """Segments of a cell stream: ("table", rows) or ("loose", [cells]), rows as index lists.

    None when the stream holds no header (nothing to infer from). ``open_end`` (web text):
    the stream was cut from running text, so cells before a table's first row and after its
    last are handed back as loose (paragraphs) rather than kept as rows.
    """
    s = _Stream(texts)
    if not s.heads:
        return None
    n = len(texts)
    out: list[tuple[str, list[list[int]]]] = []
    rows: list[list[int]] = []
    family: str | None = None
    pos = 0
    closed = False  # the last section ended with its 总分 row

    def close() -> None:
        nonlocal rows
        if rows:
            out.append(("table", rows))
        rows = []

    def tail(a: int, b: int) -> None:
        """Cells after the last fitting row of a table, up to b."""
        if a >= b:
            return
        keep = b
        if open_end and closed:
            # After a 总分 row only a closing row (自评等级 | 优) is the table's; the rest is the
            # page's text under it (附件下载, 相关链接).
            keep = a
            while keep < b and is_closing(texts[keep]):
                keep = min(b, keep + 2)
        elif open_end:
            keep = a
            while keep < b and _short(texts[keep]):
                keep += 1
        if keep > a:
            rows.extend(split_region(texts, list(range(a, keep))))
        if keep < b:
            close()
            out.append(("loose", [list(range(keep, b))]))

    for h in s.heads:
        if h.start < pos:
            continue
        indicator = h.section == "indicator_columns"
        lmax = 0
        while lmax < MAX_LEAD and h.start - lmax - 1 >= pos:
            q = h.start - lmax - 1
            if s.ident.get(q) or (q - 1 >= pos and s.ident.get(q - 1)) or q in s.in_head or s.k[q] == "N":
                break
            lmax += 1
        nxt = next((g.start for g in s.heads if g.start >= h.end), n)
        best = None
        for lead in range(0, lmax + 1) if h.section != "detail" else (0,):
            w = lead + len(h.keys)
            cols = column_kinds(lead, h.keys)
            k, v = s.chunks(h.end, w, cols, nxt, indicator)
            score = (s.exact(h.end + k * w, nxt, indicator) and k > 0, k > 0, -v, lead)
            if best is None or score > best[0]:
                best = (score, lead, w, k, cols)
        _, lead, w, k, cols = best
        if open_end and (k == 0 or not all(_short(texts[q]) for q in range(h.start - lead, h.start))):
            continue  # running text: a header with no row under it is no table
        row_start = h.start - lead
        # What lies between the previous section and this header row.
        if family is not None and h.family == family:
            rows.extend(split_region(texts, list(range(pos, row_start))))
        else:
            q = next((i for i in range(pos, row_start) if s.ident.get(i) in ("unit", "project_name", "department")),
                     row_start)
            tail(pos, q) if family is not None else (
                out.append(("loose", [list(range(pos, q))])) if q > pos and open_end else
                rows.extend(split_region(texts, list(range(pos, q)))))
            close()
            rows.extend(split_region(texts, list(range(q, row_start))))
        family = h.family
        rows.append(list(range(row_start, h.end)))
        p = h.end
        rows.extend(list(range(p + r * w, p + (r + 1) * w)) for r in range(k))
        p += k * w
        if indicator and p < n and is_total(texts[p]):
            wcol = next((j for j, key in enumerate(h.keys) if key == "weight"), None)
            room = (len(h.keys) - wcol) if wcol is not None else 2
            q = p + 1
            while q < n and q - p - 1 < room and s.k[q] != "T" and not s.anchor(q, True):
                q += 1
            rows.append(list(range(p, q)))
            p = q
            closed = True
        else:
            closed = False
        pos = p
    tail(pos, n)
    close()
    return out


# ---------------------------------------------------------------- space-separated rows


def header_of_fields(fields: list[str]) -> tuple[Header, int] | None:
    """The header in a row of fields and how many lead fields precede its run."""
    heads = find_headers(fields)
    if not heads:
        return None
    h = max(heads, key=lambda x: x.end - x.start)
    return h, h.start


def place_fields(fields: list[str], lead: int, keys: list[str], lead_texts: list[str]) -> list[int | None]:
    """Column of each field of a data row (None: the field could not be placed and is kept at
    the end). Fields keep their order; numbers go under numeric headers, labels under label
    headers; an indicator row ends with 分值 得分 (and a note), its texts fill 三级指标 and the
    target/actual columns from the right; an empty-valued row's labels fill 一级/二级 from the left."""
    w = lead + len(keys)
    n = len(fields)
    if n >= w:
        return list(range(w)) + [None] * (n - w)
    kinds = [kind(f) for f in fields]
    cols = column_kinds(lead, keys)
    place: list[int | None] = [None] * n
    if "level1" in keys:
        lv1 = lead + keys.index("level1")
        f0 = 0
        if lead and fields and vocab.normalise_label(fields[0]) in {vocab.normalise_label(t) for t in lead_texts if t}:
            place[0], f0 = lead - 1, 1  # 绩效指标 repeated in a row: the lead column
        nums = [i for i in range(f0, n) if (kinds[i] == "N" and fields[i] not in _DASH) or _SCOREISH.search(fields[i])]
        if not nums:  # no figures: labels from 一级 (or 二级 unless it reads like a 一级 label)
            start = lv1 if f0 < n and _LEVEL1.search(vocab.normalise_label(fields[f0]).replace("(", "（")) else lv1 + 1
            for i in range(f0, n):
                place[i] = min(start + i - f0, w - 1)
            return place
        return _align(fields[f0:], kinds[f0:], cols, lead + 0, f0, place)
    nums = [i for i in range(n) if kinds[i] == "N"]
    if "initial_budget" in keys and nums and all(kinds[i] == "T" for i in range(nums[0])):
        return _funds(fields, nums, lead, keys, place)
    years = [j for j, k in enumerate(keys) if k == "final_by_year"]
    prev = keys.index("prev_final") if "prev_final" in keys else years[0] if len(years) == 2 else None
    fin = keys.index("final") if "final" in keys else years[-1] if len(years) == 2 else None
    if prev is not None and fin is not None and len(nums) == 2 and fields[nums[0]] != fields[nums[1]]:
        # Two different amounts under 上年决算/本年预算/本年决算: last year's and this year's
        # 决算 (an unfilled 预算 is the common gap); two equal ones are 预算 = 决算.
        place = _align(fields, kinds, cols, 0, 0, place)
        a, b = sorted((lead + prev, lead + fin))
        place[nums[0]], place[nums[1]] = a, b
        return place
    return _align(fields, kinds, cols, 0, 0, place)


def _funds(fields: list[str], nums: list[int], lead: int, keys: list[str], place: list[int | None]) -> list[int | None]:
    """A funds row: its label, then 年初/全年/执行 amounts from the left; a figure with % is the
    执行率 and the figures around it fall before and after that column."""
    for i in range(nums[0]):
        place[i] = max(0, lead - nums[0] + i)
    first = lead + min(j for j, k in enumerate(keys) if k in NUMERIC_KEYS)
    rate = lead + keys.index("execution_rate") if "execution_rate" in keys else None
    pct = next((i for i in nums if fields[i].endswith(("%", "％"))), None)
    if rate is not None and pct is not None:
        before = [i for i in nums if i < pct]
        after = [i for i in nums if i > pct]
        for m, i in enumerate(reversed(before)):
            place[i] = rate - 1 - m if rate - 1 - m >= first else None
        place[pct] = rate
        for m, i in enumerate(after):
            place[i] = rate + 1 + m if rate + 1 + m < lead + len(keys) else None
    else:
        for m, i in enumerate(nums):
            place[i] = first + m if first + m < lead + len(keys) else None
    return place


def _align(fields: list[str], kinds: list[str], cols: list[str], c0: int, f0: int,
           place: list[int | None]) -> list[int | None]:
    """Order-keeping assignment of fields to columns c0.. maximising type agreement; ties go
    to the assignment that leaves the leftmost columns empty (merged labels are at the left)."""
    n, w = len(fields), len(cols)
    score = {("N", "N"): 3, ("T", "L"): 2, ("T", "A"): 2, ("N", "A"): 2, ("T", "X"): 2, ("N", "X"): -1,
             ("T", "N"): -4, ("N", "L"): -4}

    def s(i: int, j: int) -> int:
        k = "N" if _SCOREISH.search(fields[i]) else kinds[i]
        return score.get((k, cols[j]), 1)

    neg = -10 ** 9
    # best[i][j]: best score placing fields i.. into columns j..
    best = [[neg] * (w + 2) for _ in range(n + 1)]
    for j in range(w + 1):
        best[n][j] = 0
    for i in range(n - 1, -1, -1):
        for j in range(w - 1, c0 - 1, -1):
            take = s(i, j) + best[i + 1][j + 1] if best[i + 1][j + 1] > neg else neg
            skip = best[i][j + 1]
            best[i][j] = max(take, skip)
    j = c0
    for i in range(n):
        while j < w and not (best[i + 1][j + 1] > neg and s(i, j) + best[i + 1][j + 1] == best[i][j]
                             and best[i][j + 1] < best[i][j]):
            j += 1  # skip a column only while skipping keeps the best score (prefer right)
        if j >= w:
            break
        place[f0 + i] = j
        j += 1
    return place


def place_total(fields: list[str], keys: list[str]) -> list[str]:
    """A 总分 row of an indicator table: the label, then the columns from 分值 on (what
    evaluation._total reads). Two figures are 分值 and 得分; one alone is the 得分."""
    wcol = keys.index("weight") if "weight" in keys else len(keys) - 2
    names = keys[wcol:]
    nums = [x for x in fields[1:] if kind(x) == "N"]
    texts = [x for x in fields[1:] if kind(x) != "N"]
    out = [""] * len(names)
    want = ["weight", "score"] if len(nums) >= 2 else ["score"]
    for name, x in zip(want, nums):
        if name in names:
            out[names.index(name)] = x
    if texts and "note" in names:
        out[names.index("note")] = " ".join(texts)
    return [fields[0]] + out
