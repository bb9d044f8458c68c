"""Narrative paragraphs → a section tree from the numbering (一、 / （一） / 1、 1. / ①)."""
from __future__ import annotations

import re

from ..model import Paragraph, Section, clean_text

LEVELS = [
    (1, re.compile(r"^(?P<num>[一二三四五六七八九十]{1,3}\s*、)\s*(?P<rest>.*)$")),
    (2, re.compile(r"^(?P<num>[（(]\s*[一二三四五六七八九十]{1,3}\s*[）)])\s*(?P<rest>.*)$")),
    (3, re.compile(r"^(?P<num>\d{1,2}\s*[、.．](?!\d))\s*(?P<rest>.*)$")),
    (4, re.compile(r"^(?P<num>[①-⑳]|[（(]\d{1,2}[）)])\s*(?P<rest>.*)$")),
]

_SENTENCE_END = re.compile(r"[。；;]")
_OPEN_END = re.compile(r"[，,：:；;]$")


def numbering(text: str) -> tuple[int, str, str] | None:
    for level, rx in LEVELS:
        m = rx.match(text)
        if m and m.group("rest"):
            return level, m.group("num").replace(" ", ""), m.group("rest").strip()
    return None


def _looks_like_heading(level: int, rest: str) -> bool:
    """A numbered line is a heading when it reads like a title, not like a sentence."""
    body = rest.rstrip("。")
    if _SENTENCE_END.search(body):
        return False  # sentences inside: a list item
    if level <= 2:
        return len(rest) <= 50
    return len(rest) <= 30 and not _OPEN_END.search(rest) and not (rest.endswith("。") and len(rest) > 20)


def classify_paragraphs(paras: list[Paragraph]) -> list[tuple[Paragraph, tuple[int, str, str] | None]]:
    """Mark each paragraph as heading (level, number, heading) or body (None)."""
    marks: list[tuple[int, str, str] | None] = []
    for p in paras:
        num = numbering(p.text)
        marks.append(num if num and _looks_like_heading(num[0], num[2]) else None)
    # Low-level numbers (1、 ①) are headings only by position: something other than the
    # next item of the same list must follow them (1、跨期报账 / its text), otherwise they
    # are list items in the body (1.…表 / 2.…表).
    for i, mk in enumerate(marks):
        if mk and mk[0] >= 3:
            nxt = numbering(paras[i + 1].text) if i + 1 < len(paras) else None
            if i + 1 >= len(paras) or (nxt and nxt[0] == mk[0]):
                marks[i] = None
    return list(zip(paras, marks))


def build_sections(paras: list[Paragraph]) -> list[Section]:
    sections: list[Section] = []
    stack: list[Section] = []
    current: Section | None = None
    body: list[str] = []

    def flush() -> None:
        if current is not None:
            current.body = "\n".join(body)

    for p, mark in classify_paragraphs(paras):
        if mark is None:
            if current is None:
                current = Section(len(sections) + 1, 0, "", "", "", "", p.line, p.line)
                sections.append(current)
                body = []
            body.append(p.text)
            current.line_end = p.line
            continue
        flush()
        level, num, heading = mark
        heading = clean_text(heading)  # no invisible marks or control characters in a heading (P10)
        while stack and stack[-1].level >= level:
            stack.pop()
        parent = stack[-1] if stack else None
        path = " > ".join([s.number + s.heading for s in stack] + [num + heading])
        current = Section(len(sections) + 1, level, num, heading, path, "", p.line, p.line,
                          parent.seq if parent else None)
        sections.append(current)
        stack.append(current)
        body = []
    flush()
    return sections
