"""Findings across reports (issue 17): shared passages, peers, self-scores against evidence, year
over year — on the five samples plus a 2023 copy of 岳阳市司法局's 2024 report
(tests/fixtures/across/, made by make_fixture.py: years shifted, actual staff 76 → 72)."""
from __future__ import annotations

import urllib.parse

import pytest

from jixiao.across import passages, peers, years

from .conftest import REPORTS, ROOT, query_rows, site_for

FIXTURE = ROOT / "tests" / "fixtures" / "across"


@pytest.fixture(scope="module")
def across_db(tmp_path_factory):
    from jixiao.build import build

    out = tmp_path_factory.mktemp("across")
    build([REPORTS, FIXTURE / "2023-岳阳市司法局.txt"], out=out / "jixiao.db", packages=out / "packages",
          cache_dir=out / "cache", workers=2, progress=False)
    return out / "jixiao.db"


# ---------------------------------------------------------------- pure


def test_department_kind_from_the_unit_name():
    kind = peers.department_kind
    assert {kind(n) for n in ("岳阳市司法局", "株洲市芦淞区司法局", "岳阳市法律援助中心", "怀化市司法局")} == {"司法"}
    assert kind("长沙市财政局") == "财政"
    assert kind("某县疾病预防控制中心") == "卫生健康"
    assert kind("某市人力资源和社会保障局") == "人力资源社会保障"
    assert kind("某区城市管理综合执法局") == "城市管理"
    assert kind("某县城关镇人民政府") == "乡镇街道"
    assert kind("某市第一中学") == "教育"
    assert kind("某某有限公司") is None and kind(None) is None


def test_passages_exact_near_template_and_unrelated():
    copied = "加强对财务人员和相关管理人员的业务培训，提高相关人员的业务能力和素质，确保资金安全。"
    edited = "1、加强对财务人员和相关管理人员的业务培训，不断提高相关人员的业务能力和素质，确保资金安全。"
    note = "说明：“项目支出”需要填报基本支出以外的所有项目支出情况，“公用经费”填报基本支出中的一般商品和服务支出。"
    money = "全年总投入专项资金524.1万元，全部用于专项工作，专项资金没有被挪用、挤占，全部按进度支付到位。"
    docs = [
        passages.Doc("a", "甲局", f"标题\n{copied}\n{note}\n{money}\n本单位独有的一段很长的文字，与其他报告没有任何关系。"),
        passages.Doc("b", "乙局", f"{edited}\n\t{copied}\n{note}\n{money.replace('524.1', '90.60')}"),
        passages.Doc("c", "丙局", "完全不同的内容写在这里，长度足够二十个字符以上才会被比较。"),
    ]
    found, pairs = passages.find(docs)
    by_text = {p.text: p for p in found}
    assert set(by_text) == {copied, note, money}  # the table cell (TAB) of b is not a paragraph
    assert by_text[note].is_template and by_text[note].template_reason == "词表"
    assert not by_text[copied].is_template and by_text[copied].reports == 2
    near = [x for x in pairs if x.report_id == "b" and x.line == 1]
    assert [(x.other_report_id, x.other_line) for x in near] == [("a", 2)]
    assert 0.7 <= near[0].similarity < 1
    figures = [x for x in pairs if x.report_id == "b" and x.line == 4]
    assert figures[0].similarity == 1.0  # the same wording with other amounts
    assert passages.find(docs) == (found, pairs)  # deterministic


def test_plain_drops_punctuation_spaces_symbols_and_controls_only():
    # every BMP character: dropped exactly when its Unicode category is P, Z, S or C
    import unicodedata

    every = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000)
    kept = passages._drop().sub("", every)
    assert kept == "".join(ch for ch in every if unicodedata.category(ch)[0] not in "PZSC")
    assert passages.plain("（一）全年　预算：524.1万元，执行率100％。") == "全年预算5241万元执行率100"


def test_many_units_make_template_wording_without_pairs():
    line = "认真贯彻落实上级决策部署，坚持以人民为中心的发展思想，推动各项工作取得新成效。"
    docs = [passages.Doc(f"r{i}", f"单位{i}", line) for i in range(5)]
    found, pairs = passages.find(docs, passages.Templates((), min_units=5))
    assert [(p.is_template, p.template_reason, p.units, p.place_list) for p in found] == [(True, "多单位共用", 5, [])]
    assert pairs == []


def test_indicators_matched_across_years_by_topic_and_wording():
    now = [{"topic": "满意度", "level3": "群众满意度", "line": 5}, {"topic": None, "level3": "普法宣传次数", "line": 6},
           {"topic": "满意度", "level3": "律师服务对象满意度", "line": 7}]
    before = [{"topic": None, "level3": "普法宣传活动次数", "line": 9}, {"topic": "满意度", "level3": "群众满意率", "line": 8},
              {"topic": None, "level3": "群众满意度", "line": 10}]
    matched = years.match_indicators(now, before)
    # same topic and alike wording; a topic alone (律师服务对象满意度) or wording alone (line 10) is no match
    assert [(a["line"], b["line"], s) for a, b, s in matched] == [(5, 8, 0.6), (6, 9, 0.5)]


# ---------------------------------------------------------------- on the samples


def test_shared_passages_between_the_samples(across_db):
    pairs = query_rows(across_db, "select s.*, pp.text from shared_passages s join passage_places pp using "
                                  "(passage_id, report_id, line) where s.report_id = ? and s.other_report_id = ? "
                                  "order by s.line", "2023-岳阳市法律援助中心", "2024-岳阳市司法局")
    # The 法律援助中心 (under the 司法局) prints eleven of the 司法局's paragraphs, some with its own
    # figures or a word changed, besides template wording (the 基础数据表's title and note).
    copied = [p for p in pairs if not p["is_template"]]
    assert len(copied) == 11
    assert sum(p["similarity"] == 1.0 for p in copied) == 7
    assert [p["text"][:8] for p in pairs if p["is_template"]] == ["2023年度部门", "说明：“项目支出"]
    score = next(p for p in copied if p["line"] == 597)  # 我中心2023年度评价得分95.48分 / 我局2024年度…99分
    assert (score["other_line"], score["similarity"]) == (52, 0.7586)
    first = copied[0]
    assert (first["line"], first["other_line"], first["similarity"]) == (579, 32, 1.0)
    assert first["text"].startswith("专项资金使用规范，注重绩效")
    note = query_rows(across_db, "select * from passages where text like '说明：“项目支出”%'")[0]
    assert (note["is_template"], note["template_reason"], note["units"]) == (1, "词表", 4)


def test_a_unit_copying_its_own_earlier_year(across_db):
    own = query_rows(across_db, "select count(*) as n, min(similarity) as low from shared_passages "
                                "where report_id = '2024-岳阳市司法局' and other_report_id = '2023-岳阳市司法局'")[0]
    assert own["n"] > 30 and own["low"] >= 0.7
    assert {r["same_unit"] for r in query_rows(
        across_db, "select same_unit from shared_passages where report_id = '2024-岳阳市司法局' "
                   "and other_report_id = '2023-岳阳市司法局'")} == {1}


def test_scores_against_evidence(across_db):
    rows = {r["report_id"]: r for r in query_rows(across_db, "select * from score_evidence")}
    assert sum(r["high_score"] for r in rows.values()) == 5  # 4 samples and the fixture give themselves ≥ 95
    zz = rows["2023-株洲市芦淞区司法局"]
    assert (zz["total_score"], zz["score_band"], zz["indicators_unmet"], zz["met_pct"]) == (96.0, "95分及以上", 3, 66.7)
    assert rows["2022-邵阳市北塔区司法局-第三方"]["score_band"] == "90–95分"


def test_peer_positions(across_db):
    rows = {(r["report_id"], r["measure"]): r for r in query_rows(across_db, "select * from peer_positions")}
    yy = rows[("2024-岳阳市司法局", "execution_rate")]
    assert (yy["department_kind"], yy["admin_level"], yy["fiscal_year"]) == ("司法", "市级", 2024)
    assert (yy["value"], yy["peers"], yy["rank"], yy["peer_max"]) == (93.38, 2, 2, 100.0)  # 怀化 executed 100 %
    assert yy["line"] == 222
    assert rows[("2024-怀化市司法局", "execution_rate")]["rank"] == 1
    assert query_rows(across_db, "select department_kind from reports where report_id = '2023-岳阳市法律援助中心'")[0][
        "department_kind"] == "司法"


def test_year_over_year(across_db):
    rows = query_rows(across_db, "select * from year_changes where report_id = '2024-岳阳市司法局' order by seq")
    assert {r["other_report_id"] for r in rows} == {"2023-岳阳市司法局"}
    staff = next(r for r in rows if r["item"] == "staff_actual")
    assert (staff["value"], staff["other_value"], staff["change_value"]) == (76.0, 72.0, 4.0)
    assert staff["line"] == 76 and staff["other_line"] == 76  # the staffing row
    kept = [r for r in rows if r["kind"] == "indicator"]
    assert len(kept) >= 10 and all(r["match_similarity"] == 1.0 for r in kept)
    assert not query_rows(across_db, "select * from year_changes where report_id = '2023-岳阳市司法局'")


async def test_pages(across_db):
    ds = await site_for(across_db)
    r = await ds.client.get("/report/" + urllib.parse.quote("2023-岳阳市法律援助中心"))
    assert r.status_code == 200
    assert "这段文字也出现在" in r.text
    assert urllib.parse.quote("2024-岳阳市司法局") + "/source#L32" in r.text
    r = await ds.client.get("/unit/" + urllib.parse.quote("岳阳市司法局"))
    assert r.status_code == 200 and "逐年变化" in r.text and "与同类单位相比" in r.text
    r = await ds.client.get("/compare?unit=" + urllib.parse.quote("岳阳市司法局"))
    assert r.status_code == 200 and "自评分分布与证据" in r.text
    r = await ds.client.get("/copied")
    assert r.status_code == 200 and "专项资金使用规范" in r.text


async def test_copied_totals_are_counted_once_on_an_immutable_file(across_db, tmp_path):
    import importlib.util
    import shutil
    import sqlite3

    from jixiao.serve import Site, make_datasette

    from .conftest import ROOT

    spec = importlib.util.spec_from_file_location("across_pages_test", ROOT / "plugins" / "across_pages.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    conn = sqlite3.connect(across_db)
    passages, copied, reports = conn.execute(
        "select count(*), sum(not is_template), (select count(distinct report_id) from passage_places "
        "where passage_id in (select passage_id from passages where not is_template)) from passages").fetchone()
    ds = await site_for(across_db)  # immutable: counted on the first view, then kept
    first = await mod.copied_counts(ds)
    assert (first["passages"], first["copied"], first["reports_copying"]) == (passages, copied, reports) and copied > 0
    assert await mod.copied_counts(ds) is first
    assert f"共 {passages} 段，其中 {copied} 段" in (await ds.client.get("/copied")).text
    live_db = tmp_path / "live.db"
    shutil.copyfile(across_db, live_db)
    live = make_datasette(Site(ROOT, db_path=live_db, live=True))  # mutable: counted on each view
    await live.invoke_startup()
    one = await mod.copied_counts(live)
    assert one == first and await mod.copied_counts(live) is not one


def test_refresh_after_a_change_gives_what_a_build_gives(across_db, tmp_path):
    import shutil
    import sqlite3

    from jixiao import across
    from jixiao.ddl import storage_name
    from jixiao.schema import table

    copy = tmp_path / "copy.db"
    shutil.copyfile(across_db, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    before = {t: conn.execute(f"select * from [{t}] order by 1, 2, 3").fetchall() for t in across.TABLE_NAMES}
    assert across.refresh(conn, []) == {}  # nothing changed: nothing done
    # the fixture report removed in place, as an incremental update would: its rows go everywhere
    for t in ("year_changes", "peer_positions", "score_evidence", "shared_passages", "passage_places", "passages"):
        conn.execute(f"delete from [{storage_name(table(t))}]")  # shared_passages: a view over passage_pairs
    for t in ("indicators", "evaluations", "funds", "expense_controls", "staffing", "findings", "sections",
              "source_texts", "reports"):
        conn.execute(f"delete from [{t}] where report_id = '2023-岳阳市司法局'")
    counts = across.refresh(conn, ["2023-岳阳市司法局"])
    assert counts["year_changes"] == 0 and counts["score_evidence"] == 5
    assert not conn.execute("select count(*) from shared_passages where other_report_id = '2023-岳阳市司法局'"
                            ).fetchone()[0]
    # and adding it back gives the first build's rows again
    conn.execute("attach ? as old", [str(across_db)])
    for t in ("reports", "source_texts", "sections", "staffing", "findings", "expense_controls", "funds",
              "evaluations", "indicators"):
        conn.execute(f"insert into main.[{t}] select * from old.[{t}] where report_id = '2023-岳阳市司法局'")
    across.refresh(conn, ["2023-岳阳市司法局"])
    after = {t: conn.execute(f"select * from [{t}] order by 1, 2, 3").fetchall() for t in across.TABLE_NAMES}
    assert after == before


def test_refresh_of_the_figures_only_touches_what_changed(across_db, tmp_path):
    import shutil
    import sqlite3

    from jixiao import across

    copy = tmp_path / "copy.db"
    shutil.copyfile(across_db, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    figures = ("peer_positions", "score_evidence", "year_changes")

    def rows():
        return {t: conn.execute(f"select * from [{t}] order by 1, 2, 3").fetchall() for t in figures}

    before = rows()
    gone = "2024-怀化市司法局"  # a peer of 岳阳市司法局 2024: the group shrinks to one
    kept = {t: [r[0] for r in conn.execute(f"select report_id from [{t}] where report_id = ?", [gone])] for t in figures}
    saved = {t: conn.execute(f"select * from [{t}] where report_id = ?", [gone]).fetchall()
             for t in ("indicators", "evaluations", "funds", "expense_controls", "staffing", "findings", "reports")}
    for t in saved:
        conn.execute(f"delete from [{t}] where report_id = ?", [gone])
    counts = across.refresh(conn, [gone], passages=False)
    assert counts == {"peer_positions": 5, "score_evidence": 0, "year_changes": 0}  # 岳阳市司法局 2024 alone now
    yy = conn.execute("select peers, rank from peer_positions where report_id = '2024-岳阳市司法局' "
                      "and measure = 'execution_rate'").fetchone()
    assert yy == (1, 1) and kept["peer_positions"]
    # back in place: the first build's rows again
    for t in reversed(list(saved)):
        for r in saved[t]:
            conn.execute(f"insert into [{t}] values ({', '.join('?' * len(r))})", r)
    across.refresh(conn, [gone], passages=False)
    assert rows() == before
    # the unit's earlier year removed: the later year has nothing to be compared with
    for t in ("indicators", "evaluations", "funds", "expense_controls", "staffing", "findings", "reports"):
        conn.execute(f"delete from [{t}] where report_id = '2023-岳阳市司法局'")
    assert across.refresh(conn, ["2023-岳阳市司法局"], passages=False)["year_changes"] == 0
    assert not conn.execute("select count(*) from year_changes").fetchone()[0]


def test_a_failure_across_reports_costs_no_report(tmp_path, monkeypatch):
    """An exception in the tables across reports is one build error; every report is still published."""
    import sqlite3

    from jixiao import across
    from jixiao.build import build

    def broken(conn, log=None):
        conn.execute("delete from peer_positions")  # half done, then a value no rule foresaw
        raise ValueError("no score band for -5")

    monkeypatch.setattr(across, "build", broken)
    out = tmp_path / "jixiao.db"
    result = build([ROOT / "reports"], out=out, packages=None, cache_dir=None, workers=1, progress=False)
    conn = sqlite3.connect(out)
    assert conn.execute("select count(*) from reports").fetchone()[0] == 5
    errors = conn.execute("select source_file, error from build_errors").fetchall()
    assert errors == [("(跨报告发现)", "跨报告发现未能计算（ValueError: no score band for -5），其余数据照常发布")]
    assert any("跨报告发现未能计算" in line for line in result.log)


# ---------------------------------------------------------------- LSH as datasketch does it


def _datasketch_buckets(sigs):
    """The buckets of datasketch's own MinHashLSH (the reference passages.buckets must equal)."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=passages.THRESHOLD, num_perm=passages.NUM_PERM)
    m = MinHash(num_perm=passages.NUM_PERM, seed=1)
    for uid, sig in enumerate(sigs):
        m.hashvalues = sig
        lsh.insert(uid, m, check_duplication=False)
    return [sorted(table.get(h)) for table in lsh.hashtables for h in table.keys() if len(table.get(h)) >= 2]


def test_lsh_is_datasketchs():
    import numpy as np
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=passages.THRESHOLD, num_perm=passages.NUM_PERM)
    assert (lsh.b, lsh.r) == (passages.BANDS, passages.ROWS)
    a, b = MinHash(num_perm=passages.NUM_PERM, seed=1).permutations
    ours = passages.permutations()
    assert np.array_equal(a, ours[0]) and np.array_equal(b, ours[1]) and ours[0].dtype == a.dtype
    # real texts: every paragraph of the samples, and near copies of them (a few characters changed)
    texts = [p for f in sorted((ROOT / "reports").glob("*.txt"))
             for _, _, p in passages.paragraphs(passages.Doc(f.name, None, f.read_text("utf-8")))]
    texts += [t[:len(t) // 2] + "改" + t[len(t) // 2 + 1:] for t in texts[::3]] + texts[::7]
    sigs = np.array(list(passages.signatures([passages.trigram_hashes(passages.key(t)) for t in texts])),
                    dtype=np.uint32)
    expected = _datasketch_buckets(sigs)
    assert len(expected) > 50
    assert list(passages.buckets(sigs)) == expected


async def test_copied_between_units_query(across_db):
    ds = await site_for(across_db)
    r = await ds.client.get("/jixiao/copied_between_units.json",
                            params={"unit": "岳阳市法律援助中心", "page": "", "_shape": "array"})
    rows = r.json()
    # its paragraphs printed in another unit's report (template wording and its own years left out),
    # most similar first, each with the text as printed at its place
    # (this database also holds the fixture's 2023 copy of the 司法局's report: the same pairs again)
    assert r.status_code == 200 and {x["other_report_id"] for x in rows} == {"2024-岳阳市司法局", "2023-岳阳市司法局"}
    assert [x["similarity"] for x in rows] == sorted((x["similarity"] for x in rows), reverse=True)
    to_2024 = [x for x in rows if x["other_report_id"] == "2024-岳阳市司法局"]
    assert len(to_2024) == 11 and sum(x["similarity"] == 1.0 for x in to_2024) == 7
    score = next(x for x in to_2024 if x["line"] == 597)
    assert (score["other_line"], score["similarity"]) == (52, 0.7586) and "95.48" in score["text"]
    first = next(x for x in to_2024 if x["line"] == 579)
    assert first["other_line"] == 32 and first["text"].startswith("专项资金使用规范，注重绩效")


async def test_copied_between_units_for_every_unit(across_db):
    ds = await site_for(across_db)
    every = (await ds.client.get("/jixiao/copied_between_units.json",
                                 params={"unit": "", "page": "", "_shape": "array"})).json()
    one = (await ds.client.get("/jixiao/copied_between_units.json",
                               params={"unit": "岳阳市法律援助中心", "page": "", "_shape": "array"})).json()
    # every unit's pairs: both directions of each copy, the one unit's among them
    assert len(every) > len(one) and {(x["report_id"], x["line"], x["other_report_id"]) for x in one} <= \
        {(x["report_id"], x["line"], x["other_report_id"]) for x in every}
    assert {x["report_id"] for x in every} >= {"2023-岳阳市法律援助中心", "2024-岳阳市司法局"}
    assert all(x["text"] for x in every)


def test_trigram_hashes_of_many_texts_are_each_texts_own():
    """The chunked computation (texts concatenated) gives each text exactly its own trigrams: none
    across the boundary of two texts, short texts padded, the chunk's last text included."""
    import numpy as np

    texts = [p for f in sorted((ROOT / "reports").glob("*.txt"))[:2]
             for _, _, p in passages.paragraphs(passages.Doc(f.name, None, f.read_text("utf-8")))]
    texts += ["甲", "甲乙", "甲乙丙", "甲乙丙甲乙丙"]

    def own(k):  # one text alone, through Python's own set
        k = k.ljust(passages.SHINGLE, "\0")
        c = np.frombuffer(k.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        return sorted(set(passages._mix(c).astype(np.uint32).tolist()))

    for chunk in (1, 3, 2000):
        got = passages.trigram_hashes_many(texts, chunk=chunk)
        assert len(got) == len(texts)
        assert all(g.dtype == np.uint32 and g.tolist() == own(t) for g, t in zip(got, texts))
    assert passages.trigram_hashes_many([]) == []
    assert len(passages.trigram_hashes("甲乙丙甲乙丙")) == 3  # 甲乙丙 乙丙甲 丙甲乙
