"""Text-only reference outputs of the book's notebooks, for nbval.

The notebooks are Jupytext MyST-markdown files with no outputs. Their reference outputs live in
``tests/golden/<stem>.ipynb``: the notebook executed once with nbclient, every image stripped
(images are never compared, and they would make the references large). The root ``conftest.py``
merges a source with its reference, and nbval re-executes the merged notebook and compares the
text outputs cell by cell.

Regenerate the references on purpose, after an intended change of outputs, with::

    make references            # every notebook
    .venv/bin/python tests/nbrefs.py notebooks/01_linear_model.md   # one notebook
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
MERGED = ROOT / "_build" / "nbval"

#: Output keys that are never stored in a reference nor compared: pictures.
IMAGE_KEYS = ("image/png", "image/jpeg", "image/svg+xml", "application/papermill.record/image/png")

#: Per-cell timeout when generating references (seconds), as in the book build.
CELL_TIMEOUT = 600


def reference_path(source: Path) -> Path:
    """Where the reference of ``notebooks/<stem>.md`` lives."""
    return GOLDEN / f"{source.stem}.ipynb"


def read_source(source: Path) -> nbformat.NotebookNode:
    """The notebook of a MyST-markdown source, without outputs."""
    return jupytext.read(source)


def _strip_images(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for key in IMAGE_KEYS:
                output.get("data", {}).pop(key, None)
    return nb


def missing_references(source: Path) -> list[int]:
    """Indices of code cells whose exact source has no executed counterpart in the reference."""
    path = reference_path(source)
    if not path.exists():
        return [i for i, c in enumerate(read_source(source).cells) if c.cell_type == "code"]
    executed = {c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code" and c.get("execution_count")}
    return [i for i, c in enumerate(read_source(source).cells) if c.cell_type == "code" and c.source not in executed]


def merged_notebook(source: Path) -> Path:
    """Write the source merged with its reference outputs under ``_build/nbval``; return the path."""
    nb = read_source(source)
    path = reference_path(source)
    if path.exists():
        nb = combine_inputs_with_outputs(nb, nbformat.read(path, as_version=4))
    MERGED.mkdir(parents=True, exist_ok=True)
    target = MERGED / f"{source.stem}.ipynb"
    tmp = target.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, target)
    return target


def regenerate(source: Path) -> Path:
    """Execute ``source`` (cwd: its folder, as in the book build) and store its text outputs."""
    nb = read_source(source)
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(source.parent)}}).execute()
    # An error raised while *displaying* an output (e.g. a figure that fails to render) leaves an
    # error output in a cell whose execution status is "ok"; such a notebook is never a reference.
    failed = [i for i, c in enumerate(nb.cells) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if failed:
        raise RuntimeError(f"{source.name}: cells {failed} produced an error output; no reference written")
    _strip_images(nb)
    nb.cells = [c for c in nb.cells if c.cell_type == "code"]  # prose is read from the source
    GOLDEN.mkdir(parents=True, exist_ok=True)
    target = reference_path(source)
    tmp = target.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, target)  # never leave a half-written reference
    return target


def main(argv: list[str]) -> int:
    sources = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("*.md"))
    for source in sources:
        start = time.perf_counter()
        target = regenerate(source)
        print(f"{target.relative_to(ROOT)}  ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
