"""The Dockerfile, checked without a Docker engine (issue 8).

Static checks: pinned base image, pinned dependencies, non-root user, immutable serving with
the inspect file and the config. Then the image's steps are run as a script: COPY into a
temporary /app, every RUN in a fresh virtualenv (user/group creation skipped: it needs root on
a real image), and CMD started on 127.0.0.1 to see the site answer.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
from fnmatch import fnmatch
from pathlib import Path

import pytest

pytestmark = pytest.mark.heavy  # a minute or more: collected first (tests/conftest.py)

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, argument) pairs, with continuation lines joined and comments dropped."""
    out, buf = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, arg = buf.partition(" ")
        out.append((word.upper(), arg.strip()))
        buf = ""
    return out


def env_pairs(arg: str) -> dict[str, str]:
    return dict(tok.split("=", 1) for tok in shlex.split(arg))


def dockerignore() -> list[str]:
    p = REPO / ".dockerignore"
    return [ln.strip() for ln in p.read_text().splitlines() if ln.strip() and not ln.startswith("#")] if p.exists() else []


# ----------------------------------------------------------------- static checks


def test_base_image_is_pinned():
    froms = [a for i, a in instructions() if i == "FROM"]
    assert len(froms) == 1
    image = froms[0].split()[0]
    assert "@sha256:" in image or re.search(r":\d+\.\d+\.\d+[\w.-]*$", image), f"{image} is not an exact tag/digest"
    assert not image.endswith(":latest")


def test_dependencies_are_pinned_and_installed_from_pyproject():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert deps and all("==" in d for d in deps), [d for d in deps if "==" not in d]
    runs = " ".join(a for i, a in instructions() if i == "RUN")
    installs = re.findall(r"pip\"? install ([^&]*)", runs)
    assert installs, "no pip install"
    for args in installs:
        pkgs = [t for t in shlex.split(args) if not t.startswith("-")]
        assert pkgs == ["."], f"pip installs something other than the project: {pkgs}"


def test_runs_as_non_root_and_serves_immutable():
    ins = instructions()
    users = [(k, a) for k, (i, a) in enumerate(ins) if i == "USER"]
    cmd_at = max(k for k, (i, _) in enumerate(ins) if i == "CMD")
    assert users and users[-1][0] < cmd_at
    assert users[-1][1].split(":")[0] not in ("root", "0")
    cmd = json.loads(ins[cmd_at][1])
    assert cmd[:2] == ["jixiao", "serve"]
    # `jixiao serve` = datasette -i (immutable) with the inspect file, metadata and config
    from jixiao.serve import Site, datasette_args

    args = datasette_args(Site(Path("/app")))
    for flag in ("-i", "--inspect-file", "-m", "-c", "--plugins-dir", "--template-dir"):
        assert flag in args
    runs = " ".join(a for i, a in instructions() if i == "RUN")
    assert "jixiao\" build" in runs or "jixiao build" in runs
    assert "inspect-data.json" in runs


def test_copied_files_exist_and_are_not_ignored():
    ignored = dockerignore()
    for i, a in instructions():
        if i != "COPY":
            continue
        *srcs, _dest = shlex.split(a)
        for s in srcs:
            assert (REPO / s).exists(), f"COPY {s}: not in the repository"
            name = s.rstrip("/")
            assert not any(fnmatch(name, pat) for pat in ignored), f"COPY {s} is excluded by .dockerignore"


# ----------------------------------------------------------------- the steps, run


@pytest.mark.slow
def test_dockerfile_steps_run_in_a_clean_venv(tmp_path):
    """RUN and CMD as a script: a clean venv (pip's cache makes the second run fast)."""
    app, venv = tmp_path / "app", tmp_path / "venv"
    app.mkdir()
    env = {"HOME": os.environ.get("HOME", str(tmp_path)), "LANG": "C.UTF-8"}
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    workdir = app
    python_dir = Path(sys.base_prefix) / "bin"  # the interpreter the image's `python` stands for
    cmd = None
    for ins, arg in instructions():
        if ins == "ENV":
            for k, v in env_pairs(arg).items():
                if k == "VIRTUAL_ENV":
                    v = str(venv)
                v = v.replace("$PATH", env["PATH"]).replace("/opt/venv", str(venv))
                env[k] = v
        elif ins == "WORKDIR":
            workdir = app
        elif ins == "COPY":
            *srcs, dest = shlex.split(arg)
            for s in srcs:
                src = REPO / s
                target = workdir / dest if not dest.startswith("/") else app / dest.lstrip("/").removeprefix("app/")
                if src.is_dir():
                    shutil.copytree(src, target / src.name if dest.endswith("/") and not s.endswith("/") else target,
                                    dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    target.mkdir(parents=True, exist_ok=True) if dest.endswith("/") or dest == "./" else None
                    shutil.copy2(src, target / src.name if target.is_dir() else target)
        elif ins == "RUN":
            if re.match(r"\s*(groupadd|useradd|adduser|addgroup|apt-get)", arg):
                continue  # system changes: only meaningful inside the image
            run_env = dict(env, PATH=f"{python_dir}:{env['PATH']}")
            proc = subprocess.run(["bash", "-euo", "pipefail", "-c", arg], cwd=workdir, env=run_env,
                                  capture_output=True, text=True, timeout=900)
            assert proc.returncode == 0, f"RUN {arg[:200]}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        elif ins == "CMD":
            cmd = json.loads(arg)
    # the inspect file sits beside the database version build/jixiao.db points to, where serve looks
    inspect_file = (app / "build" / "jixiao.db").resolve().parent / "inspect-data.json"
    assert (app / "build" / "jixiao.db").exists() and inspect_file.exists()
    assert (app / "datapackages" / "jixiao" / "datapackage.json").exists()

    # CMD, on loopback and a free port instead of 0.0.0.0:8001
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [c for c in cmd]
    cmd[cmd.index("--host") + 1] = "127.0.0.1"
    cmd[cmd.index("--port") + 1] = str(port)
    cmd[0] = str(venv / "bin" / cmd[0])
    inspect_before = inspect_file.read_bytes()
    proc = subprocess.Popen(cmd, cwd=app, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        deadline, ok = time.monotonic() + 60, False
        while time.monotonic() < deadline and not ok:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    ok = r.status == 200 and "绩效" in r.read().decode("utf-8")
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("CMD exited: " + proc.stderr.read().decode()[-2000:])
                time.sleep(0.5)
        assert ok, "the site did not answer on /"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/databases.json", timeout=5) as r:
            dbs = json.loads(r.read())
        dbs = dbs.get("databases", dbs) if isinstance(dbs, dict) else dbs
        dbs = list(dbs.values()) if isinstance(dbs, dict) else dbs
        assert [d["is_mutable"] for d in dbs] == [False], dbs
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert inspect_file.read_bytes() == inspect_before
