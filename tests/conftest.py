"""Shared fixtures. The sample corpus (reports/) is built once per test session.

``built`` — a BuildResult for reports/ written to a temporary folder:
``built.db`` (jixiao.db), ``built.packages`` (datapackages), ``built.cache``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"


@dataclass
class Built:
    result: object  # jixiao.build.BuildResult
    db: Path
    packages: Path
    cache: Path


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    from jixiao.build import build

    out = tmp_path_factory.mktemp("build")
    db, packages, cache = out / "jixiao.db", out / "datapackages", out / "cache"
    result = build([REPORTS], out=db, packages=packages, cache_dir=cache, workers=2, progress=False)
    return Built(result, db, packages, cache)
