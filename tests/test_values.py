from decimal import Decimal

import pytest

from jixiao.parse.values import parse_value


@pytest.mark.parametrize("text,kind,number,unit,op,qual", [
    ("93.38%", "number", "93.38", "%", None, None),
    ("≥95%", "number", "95", "%", "≥", None),
    ("3600余人次", "number", "3600", "人次", None, "余"),
    ("\u300020.60", "number", "20.60", None, None, None),
    ("1,234,567.5", "number", "1234567.5", None, None, None),
    ("１２３", "number", "123", None, None, None),
    ("-5", "number", "-5", None, None, None),
    ("95%以上", "number", "95", "%", "≥", "以上"),
    ("一万余次", "number", "10000", "次", None, "余"),
    ("近一万二千余人次", "number", "12000", "人次", None, "近"),
    ("五十万元", "number", "50", "万元", None, None),
    ("0", "number", "0", None, None, None),
    ("——", "dash", None, None, None, None),
    ("无", "none", None, None, None, None),
    ("\u3000", "empty", None, None, None, None),
    ("酌情扣分", "text", None, None, None, None),
    ("一级指标", "text", None, None, None, None),
    ("接到申请3个工作日内", "text", None, None, None, None),
])
def test_parse_value(text, kind, number, unit, op, qual):
    v = parse_value(text)
    assert (v.kind, v.number, v.unit, v.op, v.qualifier) == (kind, Decimal(number) if number else None, unit, op, qual)
    assert v.text == text  # the original text is always kept


# ---------------------------------------------------------------- fast paths (issue 7)
# The speed-ups replace library calls with cheaper equivalents and cache pure functions;
# these tests hold them to the slow definitions on the samples and on random text.

import random  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

from jixiao import model  # noqa: E402
from jixiao.parse import parse_file, vocab  # noqa: E402
from jixiao.parse.values import _FULLWIDTH, normalise_digits  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "reports").glob("*.txt"))
ALPHABET = ("０１２３４５６７８９．％＋－，,.%+-0123456789 \t\n\u3000\xa0\u200b\ufeff\x07\x1b\u2028"
            "一二万元人次件余近约其中：:（）()年度总分合计第项目支出指标")


def _random_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30))) for _ in range(n)]


def _sample_texts() -> list[str]:
    out = []
    for f in SAMPLES:
        out += f.read_text("utf-8").split("\n")
    return out


def test_normalise_digits_is_translate_then_thousands():
    for t in _random_texts(5000) + _sample_texts():
        want = re.sub(r"(?<=\d),(?=\d{3}(?:\D|$))", "", t.translate(_FULLWIDTH))
        assert normalise_digits(t) == want, t


def test_clean_text_matches_its_definition():
    def slow(text: str) -> str:
        text = model.INVISIBLE.sub("", text)
        return "".join(p.strip(" \t\u3000\xa0") for p in text.split("\n")).strip(" \t\u3000\xa0")

    for t in _random_texts(5000) + _sample_texts():
        assert model.clean_text(t) == slow(t), repr(t)


def test_lookup_is_the_first_matcher_in_file_order():
    def slow(section: str, text: str):
        s = vocab.normalise_label(text)
        if not s:
            return None
        for key, m in vocab._matchers(section):
            if (s == m) if isinstance(m, str) else m.search(s):
                return key
        return None

    texts = [c for f in SAMPLES for t in parse_file(f).tables for row in t.rows for c in row]
    variants = [str(v).strip("/") for sec in vocab.load().values() if isinstance(sec, dict)
                for vs in sec.values() for v in vs]
    for section, body in vocab.load().items():
        if not isinstance(body, dict):
            continue
        for t in texts + variants + _random_texts(300):
            assert vocab.lookup(section, t) == slow(section, t), (section, t)


def test_cached_readings_return_fresh_objects():
    """parse_value and measure cache the reading of a text; callers change the objects they
    get (op, unit, text), which must not leak into the next call."""
    from jixiao.indicators import measure

    v = parse_value("≥95%", 3)
    v.op, v.unit, v.text = "≤", "件", "changed"
    again = parse_value("≥95%", 4)
    assert (again.op, again.unit, again.text, again.line) == ("≥", "%", "≥95%", 4)
    m = measure("95%")
    m.op, m.unit = "≤", "件"
    assert (measure("95%").op, measure("95%").unit) == (None, "%")


def test_from_jsonable_round_trip():
    from jixiao.model import Report, from_jsonable

    for f in SAMPLES:
        r = parse_file(f)
        back = from_jsonable(Report, r.to_dict())
        assert back == r and back.to_dict() == r.to_dict()
