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

    @property
    def db(self) -> Path:
        return self.db_path or self.root / "build" / "jixiao.db"

    @property
    def inspect_file(self) -> Path:
        return self.db.parent / "inspect-data.json"

    metadata = property(lambda self: self.root / "metadata.yml")
    config = property(lambda self: self.root / "datasette.yml")
    plugins = property(lambda self: self.root / "plugins")
    templates = property(lambda self: self.root / "templates")
    static = property(lambda self: self.root / "static")


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
    return [
        "serve",
        "-i", str(site.db),
        "--inspect-file", str(site.inspect_file),
        "-m", str(site.metadata),
        "-c", str(site.config),
        "--plugins-dir", str(site.plugins),
        "--template-dir", str(site.templates),
        "--static", f"static:{site.static}",
        "--cors",
        "--host", host,
        "--port", str(port),
    ]


def make_datasette(site: Site, inspect_data: dict | None = None):
    """The same site as `datasette_args`, in process (for tests and scripts)."""
    from datasette.app import Datasette

    return Datasette(
        immutables=[str(site.db)],
        inspect_data=inspect_data,
        metadata=load_yaml(site.metadata),
        config=load_yaml(site.config),
        plugins_dir=str(site.plugins),
        template_dir=str(site.templates),
        static_mounts=[("static", str(site.static))],
        cors=True,
    )


def serve(site: Site, host: str = HOST, port: int = PORT) -> None:
    """Run Datasette in the foreground until interrupted."""
    from datasette.cli import cli as datasette_cli

    missing = [p for p in (site.db, site.metadata, site.config) if not p.exists()]
    if missing:
        raise FileNotFoundError(
            "missing " + ", ".join(str(p) for p in missing) + " (run `jixiao build` first)"
        )
    ensure_inspect(site.db, site.inspect_file)
    datasette_cli.main(args=datasette_args(site, host, port), prog_name="datasette")
