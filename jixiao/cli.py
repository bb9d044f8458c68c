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
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the whole model as JSON.")
def parse(file: str, as_json: bool) -> None:
    """Parse one report (.txt Tika text or .docx) and print its model.

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
