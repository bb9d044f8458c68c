"""The build's inputs: finding the report files under the input paths (:func:`discover`: bundles,
non-reports skipped, unreadable files and symlinks out of the input as build errors), hashing them
(sha256, with the previous build's hashes as a cache) and the cache key of each file's result
(:func:`code_version`, :func:`cache_key`)."""
from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from .budget import Budget, FileTimeout
from .read import SUFFIXES  # every format a reader exists for

PACKAGE_ROOT = Path(__file__).resolve().parent


@dataclass
class BuildError:
    source_file: str
    error: str
    line: int | None = None
    sha256: str | None = None


def _unreadable(fp: Path) -> str | None:
    """Why ``fp`` (named like a report) cannot be read as a regular file, or None if it can."""
    try:
        st = os.stat(fp)  # follows symlinks: a loop or a dangling link raises here
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return None
    return "not a regular file (a FIFO, device or socket); not read"


# Files that are obviously not reports: skipped with a log line, not a build error.
_NOT_REPORTS = {".md", ".rst", ".json", ".jsonl", ".ndjson", ".yml", ".yaml", ".toml", ".py", ".sh", ".csv", ".tsv",
                ".ini", ".cfg", ".log", ".db", ".sqlite", ".pickle"}
_NOT_REPORT_NAMES = {"readme", "license", "licence", "copying", "notice", "changelog", "thumbs.db", "desktop.ini"}
_ARCHIVES = {".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz"}


def not_a_report(fp: Path) -> bool:
    return fp.suffix.lower() in _NOT_REPORTS or fp.stem.lower() in _NOT_REPORT_NAMES or fp.name.lower() in _NOT_REPORT_NAMES


def unsupported(fp: Path) -> str:
    suffix = fp.suffix.lower() or "(no suffix)"
    if suffix in _ARCHIVES:
        return f"archives are not unpacked ({suffix}): extract the files into a folder of their own"
    return (f"unsupported file type {suffix}: not read (jixiao reads "
            + " ".join(sorted(s for s in SUFFIXES)) + ")")


def _bundle_identity(files: list[Path]) -> bool:
    """Do the files of one folder belong to one report? They do unless two of them name
    different units or different years. Only formats that parse in milliseconds are asked
    (text, .docx, HTML, spreadsheets); PDFs, scans and .doc files do not vote."""
    from .parse import parse_file

    units: set[str] = set()
    years: set[int] = set()
    for f in files:
        if f.suffix.lower() not in _CHEAP_PROBE:
            continue
        try:
            with Budget(_PROBE_SECONDS):
                r = parse_file(f)
        except (Exception, FileTimeout):  # noqa: BLE001 - a file that cannot be read does not vote
            continue
        if r.unit_name:
            if any(r.unit_name not in u and u not in r.unit_name for u in units):
                return False
            units.add(r.unit_name)
        if r.fiscal_year:
            years.add(r.fiscal_year)
            if len(years) > 1:
                return False
    return True


_CHEAP_PROBE = {".txt", ".docx", ".html", ".htm", ".xlsx", ".xls"}
_PROBE_SECONDS = 30.0


def _outside(fp: str, base: str) -> str | None:
    """Where a symlink ``fp`` points when that is outside the folder ``base`` (real path), else None."""
    if not os.path.islink(fp):
        return None
    target = os.path.realpath(fp)
    try:
        if os.path.commonpath([target, base]) == base:
            return None
    except ValueError:  # another drive
        pass
    return target


def discover(paths: Iterable[str | Path], errors: list[BuildError] | None = None,
             skipped: list[str] | None = None, follow_symlinks: bool = False) -> list[Path]:
    """Reports under ``paths``: sorted, unique, no hidden files, symlink loops cut.

    A folder below an input folder that holds no folders and two or more report files is one
    report's bundle (its files are attachments of one report) when they agree on the unit and
    year; otherwise its files are reports of their own. Entries named like a report that are
    not readable regular files, and files of a type jixiao does not read, are appended to
    ``errors`` (when given); obvious non-reports (README, .md, .json …) to ``skipped``.
    Symlinks that point outside their input folder are errors too, unless ``follow_symlinks``.
    """
    found: dict[str, Path] = {}
    seen_dirs: set[str] = set()
    bad: dict[str, BuildError] = {}
    skips: list[str] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            base = os.path.realpath(p)

            def refused(fp: Path) -> bool:
                target = None if follow_symlinks else _outside(str(fp), base)
                if target:
                    bad.setdefault(str(fp), BuildError(
                        str(fp), f"a symbolic link to {target}, outside the input folder: not followed "
                                 "(build --follow-symlinks to read it)"))
                return bool(target)

            for root, dirs, files in os.walk(p, followlinks=True):
                real = os.path.realpath(root)
                if real in seen_dirs:
                    dirs[:] = []
                    continue
                seen_dirs.add(real)
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not refused(Path(root) / d))
                readable: list[Path] = []
                for f in sorted(files):
                    fp = Path(root) / f
                    if f.startswith(".") or refused(fp):
                        continue
                    if fp.suffix.lower() not in SUFFIXES:
                        if not_a_report(fp):
                            skips.append(f"{fp}: not a report ({fp.suffix or fp.name}); skipped")
                        else:
                            bad.setdefault(str(fp), BuildError(str(fp), unsupported(fp)))
                        continue
                    why = _unreadable(fp)
                    if why:
                        bad.setdefault(str(fp), BuildError(str(fp), why))
                    elif stat.S_ISREG(os.stat(fp).st_mode):
                        readable.append(fp)
                if Path(root) != p and not dirs and len(readable) >= 2 and _bundle_identity(readable):
                    found.setdefault(os.path.realpath(root), Path(root))
                    continue
                for fp in readable:  # a file that is not a link is where its folder really is
                    found.setdefault(os.path.realpath(fp) if os.path.islink(fp) else os.path.join(real, fp.name), fp)
        else:
            # Named explicitly: taken whatever its suffix; a missing file becomes a build error.
            found.setdefault(os.path.realpath(p) if p.exists() else str(p), p)
    if errors is not None:
        errors.extend(bad[k] for k in sorted(bad))
    if skipped is not None:
        skipped.extend(skips)
    return sorted(found.values(), key=lambda q: str(q))


_RACY_NS = 2_000_000_000  # a file changed this recently may change again within its timestamp: hash it


def _hashes_file(cache_dir) -> Path | None:
    return Path(cache_dir) / "hashes.json" if cache_dir else None


def load_hashes(cache_dir) -> dict[str, list]:
    """What the previous build hashed: absolute path → [size, mtime_ns, ctime_ns, inode, sha256]."""
    hf = _hashes_file(cache_dir)
    try:
        return json.loads(hf.read_text(encoding="utf-8")) if hf and hf.exists() else {}
    except (ValueError, OSError):
        return {}


def save_hashes(cache_dir, hashed: dict[str, list]) -> None:
    hf = _hashes_file(cache_dir)
    if not hf:
        return
    try:
        hf.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=hf.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(hashed, fh, ensure_ascii=False)
        os.replace(tmp, hf)
    except OSError:  # an optimisation: the next build hashes again
        pass


def sha256_known(path: Path, known: dict[str, list], hashed: dict[str, list]) -> str:
    """``sha256_entry(path)``, without reading a regular file whose size, times and inode are the
    ones it had when the previous build hashed it (a no-change rebuild of 10,000 files then
    stats them instead of reading 500 MB). ctime cannot be set back by a user; a file changed
    in the last two seconds is always read."""
    if path.is_dir():
        return sha256_entry(path)
    st = os.stat(path)
    key = os.path.abspath(path)
    sig = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    old = known.get(key)
    if old and old[:4] == sig:
        sha = old[4]
    else:
        sha = sha256_entry(path)
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > _RACY_NS:
        hashed[key] = sig + [sha]
    return sha


def sha256_entry(path: Path) -> str:
    """A file's sha256; for a bundle folder, the hash of its files' names and hashes."""
    if not path.is_dir():
        return sha256_file(path)
    from .read.bundle import bundle_sha256

    files = [(f.name, f.read_bytes()) for f in sorted(path.iterdir())
             if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in SUFFIXES]
    return bundle_sha256(files)


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the package's source and vocabularies: part of the cache key, so any code change
    (parser, checks, rows, schema) invalidates the cache."""
    h = hashlib.sha256()
    files = sorted(PACKAGE_ROOT.rglob("*.py")) + sorted((PACKAGE_ROOT / "vocab").rglob("*.yml"))
    for f in files:
        h.update(f.relative_to(PACKAGE_ROOT).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def cache_key(path: str, sha256: str, meta: dict | None = None) -> str:
    """The file's content and its name: the name is published (reports.source_file); and its
    sources.csv row, when there is one (published too: reports.source_url …)."""
    key = f"{sha256}-{hashlib.sha256(Path(path).name.encode()).hexdigest()[:8]}"
    if meta:
        key += "-" + hashlib.sha256(json.dumps(meta, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:8]
    return key


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
