"""Collect every ``notebooks/*.md`` as an nbval notebook merged with its reference outputs.

See ``tests/nbrefs.py`` for how the references are made and regenerated.
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
