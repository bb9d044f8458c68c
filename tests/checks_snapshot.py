"""Findings of every sample and fixture report, to compare the checks before and after a change.

    python tests/checks_snapshot.py save SNAPSHOT.json          # the current checks
    python tests/checks_snapshot.py compare SNAPSHOT.json       # current vs saved; exit 1 on a difference
    python tests/checks_snapshot.py compare-module OLD.py       # an old checks.py, loaded beside the
                                                                # current package, vs the current checks
    python tests/checks_snapshot.py counts                      # findings per severity on reports/*.txt

``compare-module`` runs the old module on the same parser and indicators, so it isolates the
checks from anything else that changed in the meantime. Not a pytest module (no ``test_``
prefix): a refactor of the checks must leave this output byte-identical, a fix may not.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUFFIXES = {".txt", ".docx", ".pdf", ".html", ".xlsx", ".xls", ".doc"}


def report_files() -> list[Path]:
    files = sorted((ROOT / "reports").glob("*.txt"))
    files += sorted(f for f in (ROOT / "tests" / "fixtures").rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES
                    and "scan" not in f.parts)  # scans go through OCR: minutes a page, and text like the rest
    return files


def parsed():
    from jixiao.parse import parse_file

    for f in report_files():
        try:
            yield f.relative_to(ROOT).as_posix(), parse_file(f)
        except Exception as exc:  # noqa: BLE001 - a fixture that does not parse is skipped alike
            yield f.relative_to(ROOT).as_posix(), exc


def snapshot(mod=None) -> dict:
    if mod is None:
        from jixiao import checks as mod
    out = {}
    for name, r in parsed():
        if isinstance(r, Exception):
            out[name] = {"error": type(r).__name__}
            continue
        fs = mod.run_checks(r)
        out[name] = {
            "findings": [[f.rule, f.severity, f.message, f.expected, f.actual, f.line, list(f.lines)] for f in fs],
            "disclosure": list(mod.disclosure(r)),
        }
    return out


def load_module(path: str):
    spec = importlib.util.spec_from_file_location("jixiao._checks_before", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def diff(a: dict, b: dict) -> list[str]:
    out = []
    for name in sorted(set(a) | set(b)):
        if a.get(name) != b.get(name):
            fa = (a.get(name) or {}).get("findings", [])
            fb = (b.get(name) or {}).get("findings", [])
            out.append(f"{name}: {len(fa)} → {len(fb)} findings")
            for x in fa:
                if x not in fb:
                    out.append(f"  - {x}")
            for x in fb:
                if x not in fa:
                    out.append(f"  + {x}")
            if (a.get(name) or {}).get("disclosure") != (b.get(name) or {}).get("disclosure"):
                out.append(f"  disclosure {(a.get(name) or {}).get('disclosure')} → {(b.get(name) or {}).get('disclosure')}")
    return out


def counts(snap: dict) -> Counter:
    c = Counter()
    for name, v in snap.items():
        if name.startswith("reports/"):
            c.update(x[1] for x in v.get("findings", []))
    return c


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "counts"
    if cmd == "save":
        Path(argv[1]).write_text(json.dumps(snapshot(), ensure_ascii=False, indent=1), "utf-8")
        return 0
    if cmd in ("compare", "compare-module"):
        old = (json.loads(Path(argv[1]).read_text("utf-8")) if cmd == "compare" else snapshot(load_module(argv[1])))
        new = snapshot()
        d = diff(old, new)
        print("\n".join(d) if d else f"identical: {len(new)} reports, {sum(len(v.get('findings', [])) for v in new.values())} findings")
        return 1 if d else 0
    if cmd == "counts":
        snap = json.loads(Path(argv[1]).read_text("utf-8")) if len(argv) > 1 else snapshot()
        c = counts(snap)
        print({k: c[k] for k in ("错误", "疑点", "提示")}, "total", sum(c.values()))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
