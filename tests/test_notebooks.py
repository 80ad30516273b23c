"""Static checks of the chapters and of their nbval references, and of the comparison that checks the
book build's execution against them (the build itself runs in tests/test_book.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from tests.nbrefs import GOLDEN, compare_build, merged_notebook, missing_references, read_source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))


def test_chapters_are_numbered_and_listed_in_the_toc():
    import yaml

    toc = (ROOT / "_toc.yml").read_text()
    assert NOTEBOOKS, "no chapter found"
    for nb in NOTEBOOKS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+", nb.stem), nb.name
        assert f"notebooks/{nb.stem}" in toc, f"{nb.name} is not in _toc.yml"
    numbered = {ch["file"] for part in yaml.safe_load(toc)["parts"] if part.get("numbered") for ch in part["chapters"]}
    assert {f"notebooks/{nb.stem}" for nb in NOTEBOOKS} <= numbered, "every chapter sits in a numbered part"


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_cell_has_a_reference_output(source):
    missing = missing_references(source)
    assert not missing, (
        f"{source.name}: code cells {missing} have no reference output (or were edited since); "
        "run `make references` after checking the new outputs"
    )


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_merged_notebook_gives_nbval_outputs_to_compare(source):
    merged = nbformat.read(merged_notebook(source), as_version=4)
    code = [c for c in merged.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code), "nbval compares only executed cells"
    assert any(c.outputs for c in code), "a reference without outputs would make nbval compare nothing"


def test_references_hold_no_pictures_and_no_orphans():
    stems = {nb.stem for nb in NOTEBOOKS}
    for ref in GOLDEN.glob("*.ipynb"):
        assert ref.stem in stems, f"{ref.name} has no notebook"
        assert "image/png" not in ref.read_text(), f"{ref.name} stores an image"


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_follows_the_house_rules(source):
    text = source.read_text()
    nb = read_source(source)
    assert nb.metadata["jupytext"]["text_representation"]["format_name"] == "myst"
    # The chapter number comes from _toc.yml (numbered parts), which also numbers figures and
    # equations per chapter; a number typed into the title would print twice ("1. 1. ...").
    assert re.search(r"^\(ch-[a-z0-9-]+\)=\n# [A-Z]", text, flags=re.M), (
        "chapter must open with a label and a title without a typed number (the toc numbers it)"
    )
    for forbidden in ("matplotlib.use(", "sys.path", "%run", "exec(open("):
        assert forbidden not in text, f"{source.name} uses {forbidden}"
    assert "## Summary" in text


def test_no_reference_holds_an_error_output():
    # An output that failed to render (e.g. a figure label mathtext cannot parse) is stored as an
    # "error" output in a cell that nbclient reports as executed; it must never become a reference.
    for path in sorted(GOLDEN.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        errors = [i for i, c in enumerate(nb.cells) for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{path.name}: error outputs in cells {errors}"


# --- the regression check on the build's execution (tests/nbrefs.py: compare_build) ------------------
# A fake build made from a reference the way myst-nb writes one (glue outputs moved out of their cells
# into <stem>.glue.json, mime prefix stripped); the real build's files are checked in test_book.py.
SOURCE = ROOT / "notebooks" / "01_linear_model.md"
PREFIX = "application/papermill.record/"


def _fake_build(tmp_path: Path, source: Path = SOURCE) -> tuple[Path, nbformat.NotebookNode, dict]:
    executed = nbformat.read(GOLDEN / f"{source.stem}.ipynb", as_version=4)
    glue = {}
    for cell in executed.cells:
        kept = []
        for out in cell.outputs:
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = {k.removeprefix(PREFIX): v for k, v in out["data"].items()}
                meta = {"scrapbook": {"name": name, "mime_prefix": PREFIX}}
                glue[name] = {"output_type": "display_data", "metadata": meta, "data": data}
            else:
                kept.append(out)
        cell.outputs = kept
    return tmp_path, executed, glue


def _write(build: Path, executed: nbformat.NotebookNode, glue: dict, source: Path = SOURCE) -> None:
    folder = build / "jupyter_execute" / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(executed, folder / f"{source.stem}.ipynb")
    (folder / f"{source.stem}.glue.json").write_text(json.dumps(glue))


def _glued_cells(ignored: bool) -> list[tuple[int, str]]:
    """(code cell index, glue name) of the reference's glue outputs, in cells nbval checks or ignores."""
    cells = [c for c in read_source(SOURCE).cells if c.cell_type == "code"]
    refs = nbformat.read(GOLDEN / f"{SOURCE.stem}.ipynb", as_version=4).cells
    return [
        (i, out["metadata"]["scrapbook"]["name"])
        for i, (cell, ref) in enumerate(zip(cells, refs))
        if ("nbval-ignore-output" in cell.metadata.get("tags", [])) == ignored
        for out in ref.outputs
        if "scrapbook" in out.get("metadata", {})
    ]


def test_an_unchanged_build_matches_its_reference(tmp_path):
    build, executed, glue = _fake_build(tmp_path)
    _write(build, executed, glue)
    assert compare_build(build, SOURCE) == []


def test_a_changed_glued_value_is_reported_with_its_cell(tmp_path):
    build, executed, glue = _fake_build(tmp_path)
    cell, name = _glued_cells(ignored=False)[0]
    glue[name]["data"]["text/plain"] = "'a different number'"
    _write(build, executed, glue)
    problems = compare_build(build, SOURCE)
    assert len(problems) == 1 and f"code cell {cell}" in problems[0] and "a different number" in problems[0]


def test_a_cell_tagged_nbval_ignore_output_is_not_compared(tmp_path):
    build, executed, glue = _fake_build(tmp_path)
    ignored = _glued_cells(ignored=True)
    assert ignored, "01_linear_model has a glued value in an nbval-ignore-output cell"
    glue[ignored[0][1]]["data"]["text/plain"] = "'anything'"
    _write(build, executed, glue)
    assert compare_build(build, SOURCE) == []


def test_a_missing_or_an_extra_glued_value_is_reported(tmp_path):
    build, executed, glue = _fake_build(tmp_path)
    cell, name = _glued_cells(ignored=False)[-1]
    del glue[name]
    glue["a_new_number"] = {**glue[_glued_cells(ignored=False)[0][1]]}
    _write(build, executed, glue)
    problems = compare_build(build, SOURCE)
    assert any(f"code cell {cell}" in p and f"glued value {name!r} is missing" in p for p in problems)
    assert any("the build glued ['a_new_number'], which no reference cell glues" in p for p in problems)


def test_an_unexpected_printed_output_is_reported(tmp_path):
    build, executed, glue = _fake_build(tmp_path)
    silent = next(i for i, c in enumerate(executed.cells) if not c.outputs and c.cell_type == "code")
    executed.cells[silent].outputs = [nbformat.v4.new_output("stream", name="stderr", text="a warning\n")]
    _write(build, executed, glue)
    problems = compare_build(build, SOURCE)
    assert len(problems) == 1 and f"code cell {silent}" in problems[0] and "Unexpected output fields" in problems[0]


def test_pictures_are_never_compared(tmp_path):
    build, executed, glue = _fake_build(tmp_path)
    cell = next(c for c in executed.cells if c.cell_type == "code")
    cell.outputs.append(nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="}))
    _write(build, executed, glue)
    assert compare_build(build, SOURCE) == []


def test_a_build_of_other_code_is_refused(tmp_path):
    build, executed, glue = _fake_build(tmp_path)
    next(c for c in executed.cells if c.cell_type == "code").source += "\nx = 1"
    _write(build, executed, glue)
    assert compare_build(build, SOURCE) == [
        f"{SOURCE.name}: the build, the source and the reference disagree on the code cells"
    ]


def test_merged_notebooks_are_written_through_unique_temporary_files(tmp_path, monkeypatch):
    # Two pytest-xdist workers write the same merged notebook at once: each through its own
    # temporary file, renamed into place, so neither can read or rename a half-written one.
    import tests.nbrefs as nbrefs

    monkeypatch.setattr(nbrefs, "MERGED", tmp_path)
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(nbrefs.os, "replace", lambda a, b: (seen.append(a), real_replace(a, b)))
    first, second = nbrefs.merged_notebook(SOURCE), nbrefs.merged_notebook(SOURCE)
    assert first == second == tmp_path / f"{SOURCE.stem}.ipynb"
    assert len(set(seen)) == 2 and all(Path(s).parent == tmp_path for s in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{SOURCE.stem}.ipynb"]


def test_a_notebook_named_on_the_command_line_is_collected_for_nbval():
    # `pytest notebooks/<name>.md` re-executes one chapter through nbval; a plain `pytest` collects
    # tests/ only (testpaths), since the book build executes every chapter once.
    source = ROOT / "notebooks" / "02_distinct_features.md"
    run = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    named = subprocess.run([*run, str(source)], cwd=ROOT, capture_output=True, text=True, check=False)
    cells = [c for c in read_source(source).cells if c.cell_type == "code"]
    assert named.returncode == 0, named.stdout[-2000:] + named.stderr[-2000:]
    assert named.stdout.count("02_distinct_features.md::Cell ") == len(cells)
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert options["testpaths"] == ["tests"]
