"""Legacy Word (.doc, WPS .wps): converted to .docx by LibreOffice headless, then read as .docx.

LibreOffice is not a Python package: when it is not installed the file gets one clear error
naming what to install, and the rest of the build goes on. Each conversion runs in its own
temporary profile (concurrent workers would otherwise fight over one) with a time limit.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ReportError

TIMEOUT_S = 120
INSTALL_HINT = ("LibreOffice is needed to read .doc files and is not installed "
                "(Debian/Ubuntu: apt-get install libreoffice-writer-nogui; or save the file as .docx)")


def soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def doc_to_docx(data: bytes, name: str = "input.doc") -> bytes:
    exe = soffice()
    if exe is None:
        raise ReportError(INSTALL_HINT, None)
    with tempfile.TemporaryDirectory(prefix="jixiao-doc-") as tmp:
        src = Path(tmp) / ("input" + (Path(name).suffix.lower() or ".doc"))
        src.write_bytes(data)
        profile = Path(tmp) / "profile"
        cmd = [exe, "--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation={profile.as_uri()}",
               "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(Path(tmp) / "out"), str(src)]
        env = {**os.environ, "HOME": tmp}
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, env=env, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"LibreOffice did not convert the .doc within {TIMEOUT_S} s", None) from None
        out = Path(tmp) / "out" / "input.docx"
        if proc.returncode != 0 or not out.exists():
            detail = (proc.stderr or proc.stdout or b"").decode("utf-8", "replace").strip().splitlines()
            why = detail[-1] if detail else f"exit status {proc.returncode}"
            raise ReportError(f"LibreOffice could not convert this .doc (corrupt or not a Word file?): {why}", None)
        return out.read_bytes()
