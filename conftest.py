"""Collect a ``notebooks/*.md`` named on the command line as an nbval notebook merged with its
reference outputs: ``pytest notebooks/05_synthetic_suite.md`` re-executes that chapter alone.

A plain ``pytest`` (``make test``) does not come here: its ``testpaths`` hold ``tests`` only, and
the book build executes every notebook once and compares it with its reference
(``tests/test_book.py``). See ``tests/nbrefs.py`` for how the references are made.
"""

from __future__ import annotations

from pathlib import Path

from nbval.plugin import IPyNbFile

from tests.nbrefs import IMAGE_KEYS, merged_notebook


class _Merged(str):
    """What nbval reads from a notebook node's ``fspath``: ``str()`` is the merged notebook it
    executes, ``dirname`` the source's folder, the kernel's working directory (as in the book build)."""

    dirname: str


class ReferencedNotebook(IPyNbFile):
    """An nbval notebook whose glued figures (images) are never compared.

    Its node is the ``.md`` source (so that ``pytest notebooks/<name>.md`` finds it); nbval reads
    the source merged with its reference outputs (``tests/nbrefs.py``).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skip_compare = tuple(self.skip_compare) + IMAGE_KEYS
        merged = _Merged(merged_notebook(self.path))
        merged.dirname = str(self.path.parent)
        self._merged = merged

    @property
    def fspath(self):
        return getattr(self, "_merged", None) or self.path

    @fspath.setter
    def fspath(self, value) -> None:  # pytest's legacy attribute: the node's path stays the source
        pass


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix == ".md" and file_path.parent.name == "notebooks":
        return ReferencedNotebook.from_parent(parent, path=file_path)
    return None
