"""Small books of their own in temporary folders: a failing cell fails the build, and a clone with
a public remote gets a Binder launch button.

Apart from tests/test_book.py so that pytest-xdist runs it on the other worker while the real
book builds (``--dist loadfile`` keeps a file's tests on one worker).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.test_book import ROOT, _build


def _small_book(folder, code: str) -> None:
    """The book's configuration and extensions, an intro page and one notebook running ``code``."""
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    shutil.copytree(ROOT / "book", folder / "book")
    (folder / "book" / "intro.md").write_text("# Intro\n\nA page.\n")
    (folder / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: chapter\n")
    header = (ROOT / "notebooks" / "01_linear_model.md").read_text().split("---\n")[1]
    cell = f"```{{code-cell}} ipython3\n{code}\n```\n"
    (folder / "chapter.md").write_text(f"---\n{header}---\n\n# Chapter\n\n{cell}")


@pytest.mark.slow
def test_a_failing_cell_fails_the_build(tmp_path):
    """A temporary copy of the book's configuration with one broken notebook must not build."""
    _small_book(tmp_path, "raise RuntimeError('deliberately broken cell')")
    result = _build(tmp_path)
    assert result.returncode != 0
    assert "deliberately broken cell" in result.stdout + result.stderr


@pytest.mark.slow
def test_a_clone_with_a_public_remote_gets_a_binder_button_and_one_without_none(tmp_path):
    _small_book(tmp_path, "print(1 + 1)")
    result = _build(tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    page = (tmp_path / "_build" / "html" / "chapter.html").read_text()
    assert "mybinder.org" not in page  # no remote: no button that leads nowhere
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:someone/rbm-book.git"])
    result = _build(tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    page = (tmp_path / "_build" / "html" / "chapter.html").read_text()
    assert "https://mybinder.org/v2/gh/someone/rbm-book/main?urlpath=lab/tree/chapter.md" in page
    assert "https://github.com/someone/rbm-book" in page
