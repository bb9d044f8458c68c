"""The build's outputs on disk: each database is written as a version and
``build/jixiao.db`` is a symlink switched by one rename; the package tree is swapped beside it,
and a commit record lets the next build finish a swap that was interrupted (hardening 12, 14).
Temporaries of dead builds are swept (13)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path


def versions_dir(out: Path) -> Path:
    """Where the database versions live: ``build/jixiao.db.versions/<stamp>/jixiao.db``; the
    public path ``build/jixiao.db`` is a symlink to the current one (the file keeps its name, so
    Datasette still calls the database ``jixiao``)."""
    return out.parent / f"{out.name}.versions"


def _commit_record(out, packages) -> Path | None:
    anchor = Path(out).parent if out else Path(packages).parent if packages else None
    return anchor / ".jixiao-commit.json" if anchor else None


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _fsync_file(f: Path) -> None:
    with open(f, "rb") as fh:
        os.fsync(fh.fileno())


def _syncfs(d: Path) -> None:
    """Flush the file system holding ``d`` (a whole package tree: one call, not one per file)."""
    try:
        import ctypes

        fd = os.open(d, os.O_RDONLY)
        try:
            if ctypes.CDLL(None, use_errno=True).syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    os.sync()


def _point(out: Path, version: Path) -> None:
    """Make ``out`` a symlink to ``version`` with one rename (atomic)."""
    link = out.parent / f".{out.name}.{os.getpid()}.lnk"
    link.unlink(missing_ok=True)
    os.symlink(os.path.relpath(version, out.parent), link)
    os.replace(link, out)
    _fsync_dir(out.parent)


def _swap_tree(tmp: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.replace(out, old / out.name)
    os.replace(tmp, out)
    _fsync_dir(out.parent)
    if old:
        remove_later(old)


def _roll_forward(record: dict) -> None:
    if record.get("tree") and Path(record["tree"]).is_dir():
        _swap_tree(Path(record["tree"]), Path(record["packages"]))
    if record.get("db") and Path(record["db"]).is_file():
        _point(Path(record["out"]), Path(record["db"]))


def recover(out, packages) -> None:
    """Finish the swap of a build killed while moving its outputs into place (the commit record
    is written only once both outputs are complete and on disk)."""
    rf = _commit_record(out, packages)
    if rf and rf.exists():
        try:
            record = json.loads(rf.read_text(encoding="utf-8"))
        except ValueError:
            record = {}
        _roll_forward(record)
        rf.unlink()
        _fsync_dir(rf.parent)


def commit_outputs(db, tree, out, packages) -> None:
    """Move both complete outputs into place, as one step as far as the file system allows:
    the database becomes a new version file, everything is flushed to disk, a commit record
    naming both is written, then the tree is swapped in (two renames) and the database pointer
    (one rename). A kill in between leaves the record: the next build rolls the swap forward."""
    version = None
    if db and getattr(db, "in_place", False):
        out = Path(out)  # already committed where it is: no new version, the pointer stays
    elif db:
        out = Path(out)
        vdir = versions_dir(out) / f"{time.time_ns():020d}-{os.getpid()}"
        vdir.mkdir(parents=True)
        os.chmod(db.tmp, 0o644)  # mkstemp made it private; the database is public data
        _fsync_file(db.tmp)
        version = vdir / out.name
        os.replace(db.tmp, version)
        _fsync_dir(vdir)
    if tree:
        _syncfs(tree.tmp)
    record = {"db": str(version) if version else None, "out": str(out) if out else None,
              "tree": str(tree.tmp) if tree else None, "packages": str(tree.out) if tree else None}
    rf = _commit_record(out, packages)
    with open(rf, "w", encoding="utf-8") as fh:
        json.dump(record, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    _fsync_dir(rf.parent)
    _roll_forward(record)
    rf.unlink()
    _fsync_dir(rf.parent)
    if version:
        prune_versions(Path(out), version)


def prune_versions(out: Path, current: Path, keep: int = 1) -> None:
    """Remove old database versions: the current one and the ``keep`` before it stay (a server
    started before the last build still reads its own). A server started earlier than that
    keeps the file it has open, but new connections would fail: restart it after a build."""
    vdir = versions_dir(out)
    old = sorted((d for d in vdir.iterdir() if d.is_dir() and d != current.parent), key=lambda d: d.name)
    for d in old[:max(0, len(old) - keep)]:
        shutil.rmtree(d, ignore_errors=True)


def sweep(out, packages) -> None:
    """Remove what killed builds left: ``.jixiao.db.*.tmp`` files (and their ``-wal``, ``-shm``), ``.datapackages.*.tmp/`` trees,
    ``.*.lnk`` pointers. Called under the build lock, so no running build owns them."""
    targets = []
    if out:
        out = Path(out)
        targets += [*out.parent.glob(f".{out.name}.*.tmp"), *out.parent.glob(f".{out.name}.*.tmp-wal"),
                    *out.parent.glob(f".{out.name}.*.tmp-shm"), *out.parent.glob(f".{out.name}.*.lnk")]
    if packages:
        packages = Path(packages)
        targets += list(packages.parent.glob(f".{packages.name}.*.tmp"))
    for t in targets:
        try:
            if t.is_dir() and not t.is_symlink():
                shutil.rmtree(t, ignore_errors=True)
            else:
                t.unlink()
        except OSError:
            pass


# ---------------------------------------------------------------- the package tree the build swaps in


def remove_later(path: Path) -> None:
    """Delete a folder in a detached process: unlinking a big old tree takes seconds and is not
    needed to finish the build (the name is unique and hidden; a leftover is swept next time)."""
    import subprocess

    try:
        subprocess.Popen(["rm", "-rf", "--", str(path)], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)


class TreeWriter:
    """The package tree, written into a temporary folder beside ``out`` from the database: the
    tables whose rows are final may be started early (:meth:`start`), the rest from the finished
    database (:meth:`write`); :func:`commit_outputs` swaps it in, :meth:`abort` removes it."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.corpus = None  # a package.CorpusWriter once begun
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".tmp", dir=self.out.parent))
        try:
            os.chmod(self.tmp, 0o755)
            for stale in self.out.parent.glob(f".{self.out.name}.*.old"):  # left by an interrupted removal
                remove_later(stale)
        except BaseException:
            self.abort()
            raise

    def _corpus(self, db_path: str | Path):
        """The corpus package's writer (:class:`jixiao.package.CorpusWriter`), made at first use;
        imported here, not at start-up: the package writer is only needed by a build."""
        if self.corpus is None:
            from .package import CORPUS, CorpusWriter

            self.corpus = CorpusWriter(db_path, self.tmp / CORPUS)
        return self.corpus

    def start(self, db_path: str | Path, names: list[str]) -> None:
        """Begin the corpus package's tables ``names``, whose rows are final, while the build
        goes on; :meth:`write` does the rest."""
        try:
            self._corpus(db_path).start(names)
        except BaseException:
            self.abort()
            raise

    def wait(self) -> None:
        """Until the tables started are written (they read the database till then)."""
        if self.corpus is not None:
            try:
                self.corpus.wait()
            except BaseException:
                self.abort()
                raise

    def write(self, db_path: str | Path) -> None:
        try:
            self._corpus(db_path).finish()
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        if self.corpus is not None:
            self.corpus.cancel()
        shutil.rmtree(self.tmp, ignore_errors=True)
