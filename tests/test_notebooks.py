"""Static checks of the chapters and of their nbval references (nbval itself runs the notebooks)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tests.nbrefs import GOLDEN, merged_notebook, missing_references, read_source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))


def test_chapters_are_numbered_and_listed_in_the_toc():
    import yaml

    toc = (ROOT / "_toc.yml").read_text()
    assert NOTEBOOKS, "no chapter found"
    for nb in NOTEBOOKS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+", nb.stem), nb.name
        assert f"notebooks/{nb.stem}" in toc, f"{nb.name} is not in _toc.yml"
    numbered = {ch["file"] for part in yaml.safe_load(toc)["parts"] if part.get("numbered")
                for ch in part["chapters"]}
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
    assert re.search(r"^\(ch-[a-z0-9-]+\)=\n# [A-Z]", text, flags=re.M), \
        "chapter must open with a label and a title without a typed number (the toc numbers it)"
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
