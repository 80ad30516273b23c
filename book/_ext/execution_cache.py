"""Never render a notebook from a stale jupyter-cache.

The book builds in ``execute_notebooks: cache`` mode so that ``tools/build_book.py`` can execute
the notebooks in parallel before Sphinx renders them. A cache is used only when that script
filled it for this very build: it writes a random token into the cache and passes the same token
to ``jupyter-book build`` in the environment. Any other cache (a plain ``jupyter-book build .``,
an earlier build, an interrupted one) is emptied before the first page is read, so such a build
executes every notebook itself, as ``execute_notebooks: force`` would.

myst-nb 1.4 renders a notebook found in the cache with its cached outputs but writes the executed
copy (``_build/jupyter_execute/<page>.ipynb``, which the ``.ipynb`` download and the notebook
regression test read) from the unexecuted input. After each page is read, that copy is rewritten
with the cached outputs, glued values moved out as myst-nb does when it executes the notebook.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

TOKEN_ENV = "RBM_NOTEBOOK_CACHE_TOKEN"
TOKEN_FILE = "rbm-build-token"


def cache_is_current(cache: Path, token: str | None) -> bool:
    """True only if ``cache`` holds the token of the build that passed ``token``."""
    try:
        return bool(token) and (cache / TOKEN_FILE).read_text() == token
    except OSError:
        return False


def empty_stale_cache(cache: Path, token: str | None) -> bool:
    """Remove ``cache`` unless it is current; return whether it was removed."""
    if cache.exists() and not cache_is_current(cache, token):
        shutil.rmtree(cache)
        return True
    return False


def _cache_path(app) -> Path:
    configured = app.config.nb_execution_cache_path
    return Path(configured) if configured else Path(app.outdir).parent / ".jupyter_cache"


def with_cached_outputs(notebook, cache: Path):
    """``notebook`` with the outputs of its cached execution, glue outputs removed (as myst-nb's
    own execution leaves the notebook it writes); ``None`` when the cache holds no execution."""
    import logging

    from jupyter_cache import get_cache
    from myst_nb.ext.glue import extract_glue_data

    try:
        _, merged = get_cache(str(cache)).merge_match_into_notebook(notebook)
    except KeyError:
        return None
    extract_glue_data(merged, [0] * len(merged.cells), logging.getLogger(__name__))
    return merged


def _on_builder_inited(app) -> None:
    if app.config.nb_execution_mode == "cache":
        empty_stale_cache(_cache_path(app), os.environ.get(TOKEN_ENV))


def _on_doctree_read(app, doctree) -> None:
    if app.config.nb_execution_mode != "cache":
        return
    import nbformat

    executed = Path(app.outdir).parent / "jupyter_execute" / f"{app.env.docname}.ipynb"
    if not executed.is_file():
        return
    merged = with_cached_outputs(nbformat.read(executed, as_version=4), _cache_path(app))
    if merged is not None:
        nbformat.write(merged, executed)


def setup(app):
    # Before myst-nb's own builder-inited handler (priority 500) opens the cache.
    app.connect("builder-inited", _on_builder_inited, priority=100)
    app.connect("doctree-read", _on_doctree_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
