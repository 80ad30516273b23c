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


class ReferencedNotebook(IPyNbFile):
    """An nbval notebook whose glued figures (images) are never compared."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skip_compare = tuple(self.skip_compare) + IMAGE_KEYS


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix == ".md" and file_path.parent.name == "notebooks":
        return ReferencedNotebook.from_parent(parent, path=merged_notebook(file_path))
    return None
