"""The ``jixiao`` command: a thin click layer over the library."""
from __future__ import annotations

import json
import sys

import click

from .errors import ReportError


@click.group()
@click.version_option(package_name="jixiao")
def cli() -> None:
    """jixiao：绩效自评报告开放数据。 Parse, build, validate and serve the reports."""


@cli.command()
@click.argument("file", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the whole model as JSON.")
def parse(file: str, as_json: bool) -> None:
    """Parse one report and print its model: a file in any format jixiao reads (Tika text,
    .docx, .doc, PDF, scanned PDF, HTML, .xlsx/.xls, image), or a folder holding one report's files.

    \b
    Example:
        jixiao parse reports/000_b20a9b01b0d85700.txt --json
    """
    from .parse import parse_file

    try:
        report = parse_file(file)
    except ReportError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for w in report.warnings:
        click.echo(f"{file}:{w.line}: warning: {w.message} [{w.code}]", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
        return
    click.echo(summary(report))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="Database to serve (default build/jixiao.db).")
@click.option("--packages", "packages_path", type=click.Path(file_okay=False), default=None,
              help="Data package folder the download routes serve (default datapackages/).")
@click.option("--site-url", default=None,
              help="Absolute URL of the site for the sitemap and the feed (default http://HOST:PORT).")
@click.option("--live", is_flag=True,
              help="Open the database mutable, so that `jixiao build --in-place` changes show on the next request "
                   "(default: immutable, the fastest; restart after a full build).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Datasette processes sharing the port (one per core: a process renders pages on one core).")
def serve(host: str, port: int, db_path: str | None, packages_path: str | None, site_url: str | None,
          live: bool, workers: int) -> None:
    """Serve the site with Datasette (immutable database unless --live, CORS on).

    Uses metadata.yml, datasette.yml, plugins/, templates/ and static/ from the
    current directory, and writes build/inspect-data.json when it is missing.

    \b
    Example:
        jixiao serve            # http://127.0.0.1:8001/
    """
    from pathlib import Path

    from .serve import Site, serve as run

    site = Site(db_path=Path(db_path) if db_path else None,
                packages_path=Path(packages_path) if packages_path else None, site_url=site_url, live=live)
    try:
        run(site, host=host, port=port, workers=workers)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc))


@cli.command()
@click.argument("reports", nargs=-1, type=click.Path())
@click.option("--out", default="build/jixiao.db", show_default=True, type=click.Path(dir_okay=False),
              help="SQLite database to write.")
@click.option("--packages", default="datapackages", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the Frictionless data packages.")
@click.option("--workers", type=int, default=None, help="Parser processes (default: all cores).")
@click.option("--cache/--no-cache", default=True, show_default=True, help="Reuse parsed models from build/cache/.")
@click.option("--file-timeout", type=click.FloatRange(min=0), default=300, show_default=True,
              help="Seconds one file may take (0: no limit); a file over it is a build error.")
@click.option("--follow-symlinks", is_flag=True,
              help="Read symlinks under a report folder that point outside it (refused by default).")
@click.option("--cluster", metavar="ADDRESS", default=None,
              help="Parse on a Dask distributed cluster (scheduler address, e.g. tcp://host:8786) instead of "
                   "local processes; its workers need this jixiao and the input paths (docs/scaling.md).")
@click.option("--in-place", is_flag=True,
              help="A few reports changed: change the served database itself in one transaction (WAL) instead of "
                   "writing a new version; for a site served with `jixiao serve --live`.")
def build(reports: tuple[str, ...], out: str, packages: str, workers: int | None, cache: bool,
          file_timeout: float, follow_symlinks: bool, cluster: str | None, in_place: bool) -> None:
    """Build the database and the data packages from REPORTS (files or folders; default reports/).

    A file that cannot be built is logged and listed in build_errors; the build goes on.
    Exits non-zero only when no report could be built.

    \b
    Example:
        jixiao build
        jixiao build reports/ more/ --out build/jixiao.db --packages datapackages/
        jixiao build /shared/reports --cluster tcp://scheduler:8786
    """
    from pathlib import Path

    from .build import NothingBuilt, OutputError, build as run, summary
    from .cluster import ClusterError

    cache_dir = Path(out).parent / "cache" if cache else None
    try:
        result = run(reports or ("reports",), out=out, packages=packages, workers=workers, cache_dir=cache_dir,
                     log=lambda msg: click.echo(msg, err=True), file_timeout=file_timeout or None,
                     follow_symlinks=follow_symlinks, cluster=cluster, in_place=in_place)
    except (NothingBuilt, OutputError, ClusterError) as exc:
        raise click.ClickException(str(exc))
    click.echo(summary(result), err=True)


@cli.command()
@click.option("--packages", default="datapackages", show_default=True, type=click.Path(file_okay=False))
@click.option("--db", "db_path", default="build/jixiao.db", show_default=True, type=click.Path(dir_okay=False))
def validate(packages: str, db_path: str) -> None:
    """Validate every data package (Frictionless) and check the database against them.

    \b
    Example:
        jixiao validate
    """
    from .validate import validate as run

    result = run(packages, db_path)
    click.echo(result.text())
    if not result.ok:
        sys.exit(1)


@cli.command()
@click.argument("report_id")
@click.option("--db", "db_path", default="build/jixiao.db", show_default=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="Zip file to write (default <REPORT_ID>.zip; '-' for standard output).")
def package(report_id: str, db_path: str, output: str | None) -> None:
    """Write one report's data package (a zip: datapackage.json and one CSV per table), built from
    the database; the same bytes as /download/report/<REPORT_ID>.zip, every time.

    \b
    Example:
        jixiao package 2024-岳阳市司法局 -o yueyang.zip
    """
    import sqlite3
    from pathlib import Path

    from .package import report_package

    if not Path(db_path).exists():
        raise click.ClickException(f"no database at {db_path}: run `jixiao build`")
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        body = report_package(conn, report_id)
    finally:
        conn.close()
    if body is None:
        raise click.ClickException(f"no report {report_id!r} in {db_path}")
    if output == "-":
        click.get_binary_stream("stdout").write(body)
        return
    target = Path(output or f"{report_id}.zip")
    target.write_bytes(body)
    click.echo(f"wrote {target} ({len(body):,} bytes)", err=True)


@cli.command()
@click.option("--check", is_flag=True, help="Fail if metadata.yml differs from what the schema generates.")
@click.option("--path", default="metadata.yml", show_default=True, type=click.Path(dir_okay=False))
def metadata(check: bool, path: str) -> None:
    """Write metadata.yml (Datasette descriptions) from jixiao/schema.py.

    \b
    Example:
        jixiao metadata          # regenerate
        jixiao metadata --check  # CI: is the committed file current?
    """
    from pathlib import Path

    from .metadata import metadata_yaml

    text = metadata_yaml()
    target = Path(path)
    if check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{path} is stale: run `jixiao metadata`")
        click.echo(f"{path} is current")
        return
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}")


def summary(r) -> str:
    lines = [
        f"report_id   {r.report_id}",
        f"title       {r.title}",
        f"unit        {r.unit_name}  ({r.province or '?'} {r.city or ''} {r.county or ''}, {r.admin_level or '?'})",
        f"year        {r.fiscal_year}",
        f"kind        {r.report_kind}{' — ' + r.evaluator if r.evaluator else ''}",
        f"score       总分 {r.total_score.clean if r.total_score else '—'} / 正文 {r.stated_score.clean or '—'}",
        f"sections    {len(r.sections)}; tables {len(r.tables)} ({', '.join(t.kind for t in r.tables)})",
        f"indicators  {sum(len(e.indicators) for e in r.evaluations)} in {len(r.evaluations)} evaluation table(s)",
        f"lines       " + ", ".join(f"{k} {v}" for k, v in sorted(r.line_counts.items())),
        f"warnings    {len(r.warnings)}; unparsed {len(r.unparsed)}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    cli()
