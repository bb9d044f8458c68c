"""What the previous build wrote: its record of its outputs (``<cache>/<code version>/outputs.json``)
and the incremental plan drawn from it — which reports to keep, which to remove, or a full build."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from .inputs import code_version


def _state_file(cache_dir) -> Path | None:
    return Path(cache_dir) / code_version() / "outputs.json" if cache_dir else None


def _stat(p: Path) -> list[int] | None:
    try:
        st = p.stat()
        return [st.st_size, st.st_mtime_ns, st.st_ino]
    except OSError:
        return None


def build_fingerprint(todo, errors, packages, out) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([[str(f), key] for f, _, key in todo] +
                        [[e.source_file, e.error, e.line] for e in errors] + [str(out), str(packages)],
                        ensure_ascii=False).encode())
    return h.hexdigest()


def load_state(cache_dir, out, packages) -> dict | None:
    """The previous build's record of its outputs, if they are still exactly what it wrote."""
    sf = _state_file(cache_dir)
    if not (sf and out and sf.exists()):
        return None
    try:
        state = json.loads(sf.read_text(encoding="utf-8"))
        where = str(Path(packages).resolve()) if packages else None
        corpus = _stat(Path(packages) / "jixiao" / "datapackage.json") if packages else None
        if (state["out"] == str(Path(out).resolve()) and state["packages"] == where
                and state["db_stat"] == _stat(Path(out)) and state["packages_stat"] == corpus):
            return state
    except (ValueError, KeyError, OSError):
        pass
    return None


def save_state(cache_dir, out, packages, fingerprint, entries, errors, counts) -> None:
    sf = _state_file(cache_dir)
    if not sf:
        return
    try:
        sf.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "fingerprint": fingerprint, "out": str(Path(out).resolve()),
            "packages": str(Path(packages).resolve()) if packages else None, "db_stat": _stat(Path(out)),
            "packages_stat": _stat(Path(packages) / "jixiao" / "datapackage.json") if packages else None,
            "reports": entries, "errors": [asdict(e) for e in errors], "counts": counts,
        }
        fd, tmp = tempfile.mkstemp(dir=sf.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(state, fh, ensure_ascii=False)
        os.replace(tmp, sf)
    except OSError:
        pass


class FullBuild(Exception):
    """An incremental build met a case only a full build settles (a report_id or folder clash)."""


def incremental_plan(state: dict, todo) -> dict | None:
    """Which reports to keep from the previous build and which to remove; None: build all."""
    old = {e["key"]: e for e in state["reports"]}
    keys = {key for _, _, key in todo}
    removed = [e for k, e in old.items() if k not in keys]
    new = [k for k in keys if k not in old]
    if any(e.get("renamed") for e in state["reports"]):
        return None  # a report_id was suffixed last time: which one gets the plain id may change
    if len(removed) + len(new) > max(20, len(todo) // 10):
        return None  # many changes: a full build is as fast
    return {"old": old, "remove_ids": [e["built"][0] for e in removed]}
