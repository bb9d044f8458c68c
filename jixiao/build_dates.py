"""When each report's content was first built (table ``report_builds``): the sitemap and the feed
date a report by it, so a rebuild that changes nothing moves no date."""
from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path


BUILD_DATES = "report_builds"


def _dates(conn: sqlite3.Connection) -> dict[str, str]:
    try:
        return dict(conn.execute(f"select source_sha256, min(first_built) from [{BUILD_DATES}] group by 1"))
    except sqlite3.Error:  # no such table (a database built before it existed): dates start now
        return {}


def record_build_dates(db_path: str | Path, previous: str | Path | None, now: datetime.datetime | None = None) -> None:
    """Table ``report_builds`` (report_id, source_sha256, first_built) in the database being built:
    when each report's content was first built — kept when the report's source sha256 is one
    this database (an incremental copy, or a database changed in place) or ``previous`` (the
    database this build replaces) already dated, else now. The site's sitemap and feed read it;
    it is not in the schema, so it never enters the (reproducible) data packages."""
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        old = _dates(conn)
        prev = Path(previous) if previous else None
        if prev and prev.exists() and prev.resolve() != Path(db_path).resolve():
            try:
                pc = sqlite3.connect(f"file:{prev.resolve()}?mode=ro", uri=True)
                try:
                    for sha, date in _dates(pc).items():
                        old[sha] = min(date, old.get(sha, date))
                finally:
                    pc.close()
            except sqlite3.Error:  # not a database: dates start now
                pass
        rows = [(rid, sha, old.get(sha, stamp))
                for rid, sha in conn.execute("select report_id, source_sha256 from reports")]
        conn.execute("begin")
        conn.execute(f"drop table if exists [{BUILD_DATES}]")
        conn.execute(f"create table [{BUILD_DATES}] (report_id text primary key, source_sha256 text, "
                     "first_built text not null)")
        conn.executemany(f"insert into [{BUILD_DATES}] values (?, ?, ?)", rows)
        conn.execute("commit")
    finally:
        conn.close()
