"""Text-only reference outputs of the book's notebooks, for nbval.

The notebooks are Jupytext MyST-markdown files with no outputs. Their reference outputs live in
``tests/golden/<stem>.ipynb``: the notebook executed once with nbclient, every image stripped
(images are never compared, and they would make the references large).

Each notebook is executed once per ``make test``, by the book build (``tests/test_book.py``):
:func:`compare_build` then compares what the build executed with the reference, cell by cell,
with nbval's own comparison (same skipped keys, same stream coalescing, same cell tags). To
re-execute one notebook and compare it alone, name it: ``pytest notebooks/01_linear_model.md``
(the root ``conftest.py`` merges a source with its reference and hands it to nbval).

Regenerate the references on purpose, after an intended change of outputs, with::

    make references            # every notebook
    .venv/bin/python tests/nbrefs.py notebooks/01_linear_model.md   # one notebook
"""

from __future__ import annotations

import difflib
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs
from nbclient import NotebookClient
from nbval.plugin import IPyNbCell, coalesce_streams, find_comment_markers, find_metadata_tags, nocolors

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
    executed = {
        c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code" and c.get("execution_count")
    }
    return [i for i, c in enumerate(read_source(source).cells) if c.cell_type == "code" and c.source not in executed]


def merged_notebook(source: Path) -> Path:
    """Write the source merged with its reference outputs under ``_build/nbval``; return the path."""
    nb = read_source(source)
    path = reference_path(source)
    if path.exists():
        nb = combine_inputs_with_outputs(nb, nbformat.read(path, as_version=4))
    target = MERGED / f"{source.stem}.ipynb"
    _write_atomically(nb, target)
    return target


def _write_atomically(nb: nbformat.NotebookNode, target: Path) -> None:
    """Write ``nb`` to ``target`` through a temporary file of its own, then rename it into place.

    The temporary name is unique (two pytest-xdist workers collect, and so write, the same merged
    notebook at once), and the rename is atomic: a reader sees the old file or the new one.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            nbformat.write(nb, handle)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def regenerate(source: Path) -> Path:
    """Execute ``source`` (cwd: its folder, as in the book build) and store its text outputs."""
    nb = read_source(source)
    NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(source.parent)}}
    ).execute()
    # An error raised while *displaying* an output (e.g. a figure that fails to render) leaves an
    # error output in a cell whose execution status is "ok"; such a notebook is never a reference.
    failed = [i for i, c in enumerate(nb.cells) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if failed:
        raise RuntimeError(f"{source.name}: cells {failed} produced an error output; no reference written")
    _strip_images(nb)
    nb.cells = [c for c in nb.cells if c.cell_type == "code"]  # prose is read from the source
    target = reference_path(source)
    _write_atomically(nb, target)  # never leave a half-written reference
    return target


#: Keys nbval never compares (``IPyNbFile.skip_compare`` of nbval 0.11), plus the pictures.
SKIP_COMPARE = (
    "metadata",
    "traceback",
    "prompt_number",
    "output_type",
    "name",
    "execution_count",
    "application/vnd.jupyter.widget-view+json",
    *IMAGE_KEYS,
)


class _Comparison:
    """nbval's cell comparison (:meth:`nbval.plugin.IPyNbCell.compare_outputs`) outside a pytest item."""

    compare_outputs = IPyNbCell.compare_outputs
    sanitize = IPyNbCell.sanitize

    def __init__(self) -> None:
        self.parent = type("Parent", (), {"skip_compare": SKIP_COMPARE, "sanitize_patterns": {}})()
        self.colors = nocolors
        self.comparison_traceback: list[str] = []

    def format_output_compare(self, key: str, left: object, right: object) -> None:
        diff = difflib.unified_diff(str(left).splitlines(), str(right).splitlines(), "reference", "build", lineterm="")
        self.comparison_traceback.append(f"mismatch {key!r}:\n" + "\n".join(diff))

    def differences(self, test: list, ref: list) -> str | None:
        """``None`` when nbval would accept ``test`` for ``ref``, else its explanation."""
        self.comparison_traceback = []
        if self.compare_outputs(coalesce_streams(test), coalesce_streams(ref)):
            return None
        return "\n".join(self.comparison_traceback)


def _options(cell: nbformat.NotebookNode) -> dict[str, bool]:
    """nbval's per-cell options: ``nbval-ignore-output``/``nbval-skip`` tags and comment markers."""
    options: dict[str, bool] = defaultdict(bool, find_metadata_tags(cell.metadata))
    options.update(dict(find_comment_markers(cell.source)))
    options.setdefault("check", True)
    return options


def _glue_name(output: dict) -> str | None:
    return output.get("metadata", {}).get("scrapbook", {}).get("name")


def build_outputs(build: Path, source: Path) -> tuple[nbformat.NotebookNode, dict[str, dict]]:
    """What the book build executed for ``source``: the notebook and its glued values.

    myst-nb writes the executed notebook to ``<build>/jupyter_execute/<path>.ipynb`` after moving
    every glue output out of its cell into ``<path>.glue.json`` (name -> output, the mime prefix
    ``application/papermill.record/`` stripped from the data keys and kept in the metadata).
    """
    stem = build / "jupyter_execute" / source.parent.name / source.stem
    nb = nbformat.read(stem.with_suffix(".ipynb"), as_version=4)
    glue = json.loads(stem.with_suffix(".glue.json").read_text())
    return nb, glue


def _restored(entry: dict) -> nbformat.NotebookNode:
    """A glue output as the kernel displayed it (the mime prefix back on every data key)."""
    prefix = entry["metadata"]["scrapbook"]["mime_prefix"]
    return nbformat.from_dict({**entry, "data": {prefix + k: v for k, v in entry["data"].items()}})


def compare_build(build: Path, source: Path) -> list[str]:
    """Compare the build's execution of ``source`` with its reference; return every difference.

    Cell by cell, as nbval does after executing the merged notebook: the outputs of each code
    cell (nbval's comparison, so images, metadata and execution counts are ignored and streams
    coalesced), except cells tagged ``nbval-ignore-output`` or ``nbval-skip``. A glued value is
    compared with the output that glued it in the reference; a value the build glued that no
    reference cell glues is a difference too.
    """
    executed, glue = build_outputs(build, source)
    reference = nbformat.read(reference_path(source), as_version=4)
    cells = [c for c in read_source(source).cells if c.cell_type == "code"]
    ran = [c for c in executed.cells if c.cell_type == "code"]
    refs = [c for c in reference.cells if c.cell_type == "code"]
    if [c.source for c in ran] != [c.source for c in cells] or [c.source for c in refs] != [c.source for c in cells]:
        return [f"{source.name}: the build, the source and the reference disagree on the code cells"]
    problems, glued_in_reference, compare = [], set(), _Comparison()
    for i, (cell, test, ref) in enumerate(zip(cells, ran, refs)):
        options = _options(cell)
        ref_glue = [o for o in ref.outputs if _glue_name(o)]
        glued_in_reference |= {_glue_name(o) for o in ref_glue}
        if options["skip"] or not options["check"]:
            continue
        plain = [o for o in ref.outputs if not _glue_name(o)]
        found = compare.differences(list(test.outputs), plain)
        for out in ref_glue:
            name = _glue_name(out)
            found = found or (f"glued value {name!r} is missing" if name not in glue else None)
            found = found or compare.differences([_restored(glue[name])], [out])
        if found:
            problems.append(f"{source.name}, code cell {i} (source line 1: {cell.source.splitlines()[0]!r}):\n{found}")
    extra = sorted(set(glue) - glued_in_reference)
    if extra:
        problems.append(f"{source.name}: the build glued {extra}, which no reference cell glues")
    return problems


def main(argv: list[str]) -> int:
    sources = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("*.md"))
    for source in sources:
        start = time.perf_counter()
        target = regenerate(source)
        print(f"{target.relative_to(ROOT)}  ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
