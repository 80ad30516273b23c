"""Numbered statements: each theorem-like statement has a label, its number is its chapter's and
its place in the chapter, and every mention of one in the book is a link with the right number.

The book numbers statements by hand ("Theorem 3.2"; Sphinx numbers the figures and equations per
chapter from the numbered table of contents). These checks keep the hand numbers true: a label
``(thm-C-K)=`` stands right above the bold statement ``**Kind C.K (...).**`` in chapter ``0C``, K
counts 1, 2, ... in order, and a mention ``Kind C.K`` anywhere in the prose is a ``{ref}`` to
``thm-C-K`` whose text names the same kind and number.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("0[1-9]_*.md"))
PAGES = CHAPTERS + sorted((ROOT / "book").glob("*.md"))
KINDS = "Theorem|Proposition|Lemma|Corollary|Definition"
LABEL = re.compile(r"^\(thm-(\d+)-(\d+)\)=\s*$")
STATEMENT = re.compile(rf"^\*\*({KINDS}) (\d+)\.(\d+)\b")
REF = re.compile(rf"\{{ref\}}`({KINDS}) (\d+)\.(\d+) <thm-(\d+)-(\d+)>`")
MENTION = re.compile(rf"\b({KINDS}) (\d+)\.(\d+)\b")
CITED = re.compile(r"\{cite[:\w]*\}`|\b(19|20)\d\d\b")


def _prose(text: str) -> list[tuple[int, str]]:
    """Numbered lines outside code cells and code blocks (a comment in code may say anything);
    the bodies of other MyST directives (figures, admonitions, dropdowns) are prose."""
    lines: list[tuple[int, str]] = []
    directives: list[str] = []  # the closing fences of the directives open around this line
    code = None  # the closing fence of the code block this line is in
    for number, line in enumerate(text.splitlines(), start=1):
        if code is not None:
            code = None if line.strip() == code else code
            continue
        fence = re.match(r"^(`{3,}|~{3,}|:{3,})(\S*)", line)
        if fence is None:
            lines.append((number, line))
        elif directives and line.strip() == directives[-1]:
            directives.pop()
        elif fence[2].startswith("{") and fence[2] != "{code-cell}":
            directives.append(fence[1])
        else:
            code = fence[1]
    return lines


def statements() -> dict[str, tuple[str, Path]]:
    """Label -> (kind, chapter file) of every numbered statement."""
    found: dict[str, tuple[str, Path]] = {}
    for chapter in CHAPTERS:
        lines = chapter.read_text().splitlines()
        for i, line in enumerate(lines):
            if LABEL.match(line):
                following = next(x for x in lines[i + 1 :] if x.strip())
                statement = STATEMENT.match(following)
                assert statement, f"{chapter.name}:{i + 1}: label {line.strip()} is not above a bold statement"
                found[f"thm-{statement[2]}-{statement[3]}"] = (statement[1], chapter)
    return found


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_statements_are_labelled_and_numbered_by_chapter_and_order(chapter):
    number = int(chapter.name[:2])
    lines = chapter.read_text().splitlines()
    expected = 1
    for i, line in enumerate(lines):
        statement = STATEMENT.match(line)
        if not statement:
            continue
        label = next((x for x in reversed(lines[:i]) if x.strip()), "")
        where = f"{chapter.name}:{i + 1}: {statement[0]}"
        assert LABEL.match(label), f"{where} has no (thm-C-K)= label above it"
        assert (int(statement[2]), int(statement[3])) == (number, expected), f"{where} should be {number}.{expected}"
        assert LABEL.match(label).groups() == (statement[2], statement[3]), f"{where} is labelled {label.strip()}"
        expected += 1


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_mention_of_a_statement_is_a_link_with_its_number(page):
    known = statements()
    prose = _prose(page.read_text())
    for (number, line), (_, following) in zip(prose, prose[1:]):
        broken = re.search(rf"\b({KINDS})\s*$", line) and re.match(r"\s*\d+\.\d+\b", following)
        assert not broken, f"{page.relative_to(ROOT)}:{number}: a mention broken across lines: {line.strip()[-30:]!r}"
    for number, line in prose:
        where = f"{page.relative_to(ROOT)}:{number}"
        for ref in REF.finditer(line):
            kind, c, k, label_c, label_k = ref.groups()
            label = f"thm-{label_c}-{label_k}"
            assert label in known, f"{where}: {ref[0]} links to no statement"
            assert (c, k) == (label_c, label_k), f"{where}: {ref[0]} names another number than its label"
            assert kind == known[label][0], f"{where}: {ref[0]} is a {known[label][0]}"
        for bare in MENTION.finditer(STATEMENT.sub("", REF.sub("", line))):
            label = f"thm-{bare[2]}-{bare[3]}"
            assert label not in known, f"{where}: '{bare[0]}' is not a link ({{ref}}`{bare[0]} <{label}>`)"
            # Another work's theorem, cited on the same line (a {cite} role or a year), is not ours.
            assert CITED.search(line), f"{where}: '{bare[0]}' names no statement of the book and cites no work"


def test_the_checks_can_fail(tmp_path):
    """A bare mention and a wrong number are found (the checks are not true by construction)."""
    assert MENTION.search(REF.sub("", "as in Theorem 3.2, and {ref}`Theorem 3.2 <thm-3-2>`"))
    assert not MENTION.search(REF.sub("", "see {ref}`Proposition 4.4 <thm-4-4>`."))
    ref = REF.search("{ref}`Theorem 3.3 <thm-3-2>`")
    assert ref and ref.groups()[1:3] != ref.groups()[3:5]
