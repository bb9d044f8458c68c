"""The one exception a bad input raises: it names the file, the line and the reason."""
from __future__ import annotations


class ReportError(Exception):
    def __init__(self, reason: str, line: int | None = None, source: str | None = None):
        self.reason = reason
        self.line = line
        self.source = source
        super().__init__(str(self))

    def with_source(self, source: str) -> "ReportError":
        return ReportError(self.reason, self.line, source)

    def __str__(self) -> str:
        where = self.source or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.reason}"
