"""The parallel book build (tools/build_book.py) and its guard against stale caches.

The full build runs in tests/test_book.py (every notebook executed once, rendered from the cache)
and tests/test_book_failure.py (a failing notebook fails the build); these are the parts that
decide what is executed, in which order, and which cache a build may use.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_book = _load(ROOT / "tools" / "build_book.py", "build_book")
execution_cache = _load(ROOT / "book" / "_ext" / "execution_cache.py", "execution_cache")


def test_a_cache_is_used_only_by_the_build_that_filled_it(tmp_path):
    cache = tmp_path / ".jupyter_cache"
    cache.mkdir()
    (cache / execution_cache.TOKEN_FILE).write_text("abc")
    assert not execution_cache.empty_stale_cache(cache, "abc") and cache.exists()
    for token in (None, "", "abd"):  # a plain build, an empty variable, another build's token
        cache.mkdir(exist_ok=True)
        (cache / execution_cache.TOKEN_FILE).write_text("abc")
        assert execution_cache.empty_stale_cache(cache, token) and not cache.exists()
    cache.mkdir()  # a cache without a token file (filled by a plain build) is stale too
    (cache / "global.db").write_text("")
    assert execution_cache.empty_stale_cache(cache, "abc") and not cache.exists()
    assert not execution_cache.empty_stale_cache(cache, "abc")  # nothing to remove


def test_the_tool_and_the_extension_name_the_same_token():
    ext = build_book._extension()
    assert (ext.TOKEN_ENV, ext.TOKEN_FILE) == (execution_cache.TOKEN_ENV, execution_cache.TOKEN_FILE)


def test_every_notebook_of_the_toc_is_found_and_no_plain_page():
    files = build_book.toc_files(ROOT)
    notebooks = [p for p in files if build_book.is_notebook(p)]
    assert set((ROOT / "notebooks").glob("*.md")) <= set(notebooks)
    assert ROOT / "book" / "references.md" in files and ROOT / "book" / "references.md" not in notebooks
    assert len(files) == len(set(files))


def _notebook_with_times(path: Path, start: str, end: str) -> None:
    cell = nbformat.v4.new_code_cell("1")
    cell.metadata["execution"] = {"iopub.execute_input": start, "iopub.status.idle": end}
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)


def test_recorded_seconds_reads_the_reference_cells_timestamps(tmp_path):
    _notebook_with_times(tmp_path / "a.ipynb", "2026-01-01T00:00:00.000000Z", "2026-01-01T00:01:30.500000Z")
    assert build_book.recorded_seconds(tmp_path / "a.ipynb") == pytest.approx(90.5)
    assert build_book.recorded_seconds(tmp_path / "missing.ipynb") == 0.0


def test_the_previous_builds_times_order_the_notebooks_longest_first(tmp_path):
    (tmp_path / "_build").mkdir()
    paths = [tmp_path / f"{n}.md" for n in ("a", "b", "c")]
    (tmp_path / "_build" / "notebook-seconds.json").write_text(json.dumps({"a.md": 1.0, "b.md": 30.0, "c.md": 5.0}))
    assert build_book.longest_first(tmp_path, paths) == [paths[1], paths[2], paths[0]]


def test_a_fresh_clone_starts_the_longest_reference_first():
    notebooks = sorted((ROOT / "notebooks").glob("*.md"))
    recorded = {p: build_book.recorded_seconds(ROOT / "tests" / "golden" / f"{p.stem}.ipynb") for p in notebooks}
    assert all(s > 0 for s in recorded.values()), recorded
    order = build_book.longest_first(ROOT / "notebooks", notebooks)  # no _build there: the references decide
    assert order[0] == max(recorded, key=recorded.get)


def test_zero_jobs_is_one_error_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_book.main([str(ROOT), "--jobs", "0"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "error: --jobs must be at least 1, got 0\n"


repository_links = _load(ROOT / "book" / "_ext" / "repository_links.py", "repository_links")


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("git@github.com:someone/rbm-book.git", "https://github.com/someone/rbm-book"),
        ("https://github.com/someone/rbm-book.git", "https://github.com/someone/rbm-book"),
        ("https://gitlab.com/group/rbm.book/", "https://gitlab.com/group/rbm.book"),
        ("/work/main", None),  # a local clone's origin is no public URL
        ("https://example.org/someone/rbm-book", None),
        ("", None),
    ],
)
def test_public_url_is_read_from_a_github_or_gitlab_remote(remote, url):
    assert repository_links.public_url(remote) == url


def test_a_public_remote_turns_on_the_binder_and_repository_buttons():
    options = {"repository_url": "", "launch_buttons": {"binderhub_url": "", "notebook_interface": "jupyterlab"}}
    on = repository_links.theme_options(options, "git@github.com:someone/rbm-book.git")
    assert on["repository_url"] == "https://github.com/someone/rbm-book" and on["use_repository_button"]
    assert on["launch_buttons"] == {"binderhub_url": repository_links.BINDER, "notebook_interface": "jupyterlab"}
    assert repository_links.theme_options(options, "/work/main") == options  # no button that leads nowhere
    mine = {**options, "repository_url": "https://github.com/me/fork"}
    assert (
        repository_links.theme_options(mine, "git@github.com:someone/rbm-book.git")["repository_url"]
        == mine["repository_url"]
    )


def test_a_clone_without_a_remote_has_no_origin(tmp_path):
    assert repository_links.origin_remote(tmp_path) == ""


def test_the_executed_copy_gets_the_cached_outputs_without_the_glue(tmp_path):
    """myst-nb writes a cached notebook's executed copy from its input: the extension restores the
    outputs (here a printed line) and drops glue outputs (they live in the page's .glue.json)."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(2)"), nbformat.v4.new_markdown_cell("x")])
    source.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    assert execution_cache.with_cached_outputs(source, tmp_path / "cache") is None  # nothing cached yet
    executed = nbformat.from_dict(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(2)")]))
    executed.metadata = source.metadata
    glue = nbformat.v4.new_output(
        "display_data",
        data={"application/papermill.record/text/plain": "3"},
        metadata={"scrapbook": {"name": "three", "mime_prefix": "application/papermill.record/"}},
    )
    executed.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n"), glue]
    get_cache(str(tmp_path / "cache")).cache_notebook_bundle(
        CacheBundleIn(executed, "x.md"), check_validity=False, overwrite=True
    )
    merged = execution_cache.with_cached_outputs(source, tmp_path / "cache")
    assert [o.get("text") for o in merged.cells[0].outputs] == ["2\n"]
    assert merged.cells[1].source == "x" and source.cells[0].outputs == []  # the input is untouched
