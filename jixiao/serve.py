"""Serve the site: Datasette with our metadata, configuration, plugins, templates and static files.

One description of the site (`Site`) feeds both the `jixiao serve` command line and the
in-process `Datasette` the tests use, so the two cannot drift apart. Settings (time limits,
page sizes, facet suggestions) live in ``datasette.yml``.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

HOST = "127.0.0.1"
PORT = 8001


@dataclass(frozen=True)
class Site:
    """Where the served files are, relative to the project root."""

    root: Path = Path(".")
    db_path: Path | None = None
    packages_path: Path | None = None
    # The absolute URL of the site, for the sitemap and the feed (never the request's Host).
    site_url: str | None = None
    # Live: the database is opened mutable (WAL readers), so `jixiao build --in-place` changes are
    # seen by the next request; otherwise immutable (no locking, counts from the inspect file).
    live: bool = False

    @property
    def packages(self) -> Path:
        return self.packages_path or self.root / "datapackages"

    def plugin_config(self, host: str = HOST, port: int = PORT, serving: bool = False) -> dict:
        """What the plugins read (``site_config``): the database file
        (served as ``jixiao`` whatever it is called), the package tree and the site URL; and, in a
        server process (not an in-process Datasette of a test or script), ``freeze_gc``
        (plugins/page_speed.py)."""
        return {"database": str(Path(self.db).resolve()), "packages": str(Path(self.packages).resolve()),
                "site_url": self.site_url or f"http://{host}:{port}", **({"freeze_gc": "1"} if serving else {})}

    @property
    def db(self) -> Path:
        """The database file; ``build/jixiao.db`` is a pointer (symlink) to the current version,
        resolved here, once, at start-up: a rebuild then never changes the file being served."""
        db = self.db_path or self.root / "build" / "jixiao.db"
        return db.resolve() if db.is_symlink() else db

    @property
    def inspect_file(self) -> Path:
        return self.db.parent / "inspect-data.json"

    metadata = property(lambda self: self.root / "metadata.yml")
    config = property(lambda self: self.root / "datasette.yml")
    plugins = property(lambda self: self.root / "plugins")
    templates = property(lambda self: self.root / "templates")
    static = property(lambda self: self.root / "static")


def site_config(datasette) -> dict:
    """What the plugins read of ``Site.plugin_config``: the ``plugins: jixiao:`` block of the
    running Datasette's configuration; empty when Datasette is started some other way."""
    return ((datasette.config or {}).get("plugins") or {}).get("jixiao") or {}


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


async def inspect_database(db: Path) -> dict:
    """What ``datasette inspect`` writes: hash, size and row counts of an immutable database."""
    from datasette.cli import inspect_

    return await inspect_([str(db)], [])


def ensure_inspect(db: Path, inspect_file: Path) -> dict:
    """Read the inspect file, (re)creating it when missing or older than the database."""
    if not inspect_file.exists() or inspect_file.stat().st_mtime < db.stat().st_mtime:
        data = asyncio.run(inspect_database(db))
        inspect_file.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return json.loads(inspect_file.read_text(encoding="utf-8"))


def datasette_args(site: Site, host: str = HOST, port: int = PORT) -> list[str]:
    """The ``datasette serve`` arguments for the site."""
    db_args = [str(site.db)] if site.live else ["-i", str(site.db), "--inspect-file", str(site.inspect_file)]
    return [
        "serve",
        *db_args,
        "-m", str(site.metadata),
        "-c", str(site.config),
        "--plugins-dir", str(site.plugins),
        "--template-dir", str(site.templates),
        "--static", f"static:{site.static}",
        "--cors",
        *[arg for key, value in site.plugin_config(host, port, serving=True).items()
          for arg in ("-s", f"plugins.jixiao.{key}", value)],
        "--host", host,
        "--port", str(port),
    ]


def make_datasette(site: Site, inspect_data: dict | None = None, host: str = HOST, port: int = PORT,
                   serving: bool = False):
    """The same site as `datasette_args`, in process (for tests and scripts; ``serving``: a
    worker process of `serve --workers N`)."""
    from datasette.app import Datasette

    return Datasette(
        files=[str(site.db)] if site.live else [],
        immutables=[] if site.live else [str(site.db)],
        inspect_data=inspect_data,
        metadata=load_yaml(site.metadata),
        config={**load_yaml(site.config), "plugins": {"jixiao": site.plugin_config(host, port, serving)}},
        plugins_dir=str(site.plugins),
        template_dir=str(site.templates),
        static_mounts=[("static", str(site.static))],
        cors=True,
    )


SITE_ENV = "JIXIAO_SITE"  # the site of `serve --workers N`, for each worker process


def app_from_env():
    """The ASGI app of one worker process of ``jixiao serve --workers N`` (a uvicorn factory):
    the site described in ``$JIXIAO_SITE``, the same as ``datasette_args`` would serve."""
    import os

    spec = json.loads(os.environ[SITE_ENV])
    site = Site(root=Path(spec["root"]), db_path=Path(spec["db"]), site_url=spec.get("site_url"),
                packages_path=Path(spec["packages"]) if spec.get("packages") else None, live=spec.get("live", False))
    inspect = None if site.live else json.loads(site.inspect_file.read_text(encoding="utf-8"))
    return make_datasette(site, inspect, spec["host"], spec["port"], serving=True).app()


def serve_workers(site: Site, host: str, port: int, workers: int) -> None:
    """N Datasette processes on one port (uvicorn's workers share the listening socket): Datasette
    renders pages in one event loop, so one process uses at most about one core."""
    import os

    import uvicorn

    os.environ[SITE_ENV] = json.dumps({
        "root": str(Path(site.root).resolve()), "db": str(Path(site.db).resolve()),
        "packages": str(Path(site.packages).resolve()), "site_url": site.site_url, "live": site.live,
        "host": host, "port": port})
    uvicorn.run("jixiao.serve:app_from_env", factory=True, host=host, port=port, workers=workers,
                lifespan="on", log_level="info")


def serve(site: Site, host: str = HOST, port: int = PORT, workers: int = 1) -> None:
    """Run Datasette in the foreground until interrupted (``workers`` > 1: that many processes)."""
    from datasette.cli import cli as datasette_cli

    missing = [p for p in (site.db, site.metadata, site.config) if not p.exists()]
    if missing:
        raise FileNotFoundError(
            "missing " + ", ".join(str(p) for p in missing) + " (run `jixiao build` first)"
        )
    if not site.live:
        ensure_inspect(site.db, site.inspect_file)
    if workers > 1:
        return serve_workers(site, host, port, workers)
    datasette_cli.main(args=datasette_args(site, host, port), prog_name="datasette")
