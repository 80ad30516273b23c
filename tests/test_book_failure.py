"""A failing cell fails the book build (a small book of its own in a temporary folder).

Apart from tests/test_book.py so that pytest-xdist runs it on the other worker while the real
book builds (``--dist loadfile`` keeps a file's tests on one worker).
"""

from __future__ import annotations

import shutil

import pytest

from tests.test_book import ROOT, _build


@pytest.mark.slow
def test_a_failing_cell_fails_the_build(tmp_path):
    """A temporary copy of the book's configuration with one broken notebook must not build."""
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copytree(ROOT / "book", tmp_path / "book")
    (tmp_path / "book" / "intro.md").write_text("# Intro\n\nA page.\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: broken\n")
    header = (ROOT / "notebooks" / "01_linear_model.md").read_text().split("---\n")[1]
    cell = "```{code-cell} ipython3\nraise RuntimeError('deliberately broken cell')\n```\n"
    (tmp_path / "broken.md").write_text(f"---\n{header}---\n\n# Broken\n\n{cell}")
    result = _build(tmp_path)
    assert result.returncode != 0
    assert "deliberately broken cell" in result.stdout + result.stderr
