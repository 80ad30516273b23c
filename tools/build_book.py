"""Build the book: execute every notebook once, several at a time, then render from those outputs.

Jupyter Book 1 executes notebooks one after another inside the Sphinx build, so one long chapter
keeps every other core idle. This script executes them first, in parallel worker processes
(``concurrent.futures``), and stores each executed notebook in the build's jupyter-cache
(``<source>/_build/.jupyter_cache``, the cache Jupyter Book reads in ``execute_notebooks: cache``
mode). ``jupyter-book build`` then finds every notebook executed and only renders it.

Every build executes every notebook: the cache is emptied first, and ``book/_ext/execution_cache.py``
empties a cache that this script did not fill for the current build, so a plain
``jupyter-book build .`` executes everything too and never shows stale outputs. A notebook that
fails stops the build before rendering, with its traceback and exit status 1.

The order does not change any output (each notebook runs in its own kernel on its own explicit
seeds); only the wall time depends on it. The longest notebooks of the previous build start first
(``<source>/_build/notebook-seconds.json``), otherwise the table of contents' order is kept.

Usage::

    python tools/build_book.py [SOURCE] [--jobs N] [-- JUPYTER_BOOK_BUILD_FLAGS ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import nbformat
import yaml


def _extension():
    """``book/_ext/execution_cache.py``, which names the token this script hands to the build."""
    path = Path(__file__).resolve().parents[1] / "book" / "_ext" / "execution_cache.py"
    spec = importlib.util.spec_from_file_location("execution_cache", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


STALE = ("html", "jupyter_execute", ".doctrees", ".jupyter_cache")


def toc_files(source: Path) -> list[Path]:
    """Every file of ``_toc.yml`` (root, chapters, sections), in reading order."""
    toc = yaml.safe_load((source / "_toc.yml").read_text())
    names: list[str] = []

    def walk(node: dict | list) -> None:
        for entry in node if isinstance(node, list) else [node]:
            if "file" in entry:
                names.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                if key in entry:
                    walk(entry[key])

    names.append(toc["root"])
    for key in ("parts", "chapters"):
        if key in toc:
            walk(toc[key])
    files = []
    for name in names:
        found = [p for p in (source / name, source / f"{name}.md", source / f"{name}.ipynb") if p.is_file()]
        files += found[:1]
    return files


def is_notebook(path: Path) -> bool:
    """A ``.ipynb`` file, or a MyST markdown file with a Jupytext header naming a kernel."""
    if path.suffix == ".ipynb":
        return True
    text = path.read_text(encoding="utf8")
    if not text.startswith("---\n"):
        return False
    header = yaml.safe_load(text.split("---\n", 2)[1]) or {}
    return "kernelspec" in header


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook exactly as myst-nb reads it in the build (so that the cache matches it)."""
    if path.suffix == ".ipynb":
        return nbformat.read(path, as_version=4)
    from myst_nb.core.read import myst_nb_reader_plugin

    return myst_nb_reader_plugin(str(path))


def _execute(path: str, timeout: int | None) -> tuple[str, str, float, str | None]:
    """Run one notebook in its own kernel, in its folder as the build would; return it as JSON."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = read_notebook(Path(path))
    result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout, allow_errors=False)
    return path, nbformat.writes(result.nb), result.time, result.exc_string if result.err else None


def recorded_seconds(reference: Path) -> float:
    """How long a notebook took when its nbval reference was recorded (its cells' timestamps)."""
    try:
        nb = nbformat.read(reference, as_version=4)
    except (OSError, ValueError):
        return 0.0
    stamps = [
        datetime.fromisoformat(c.metadata["execution"][key].replace("Z", "+00:00"))
        for c in nb.cells
        if "execution" in c.get("metadata", {})
        for key in ("iopub.execute_input", "iopub.status.idle")
        if key in c.metadata["execution"]
    ]
    return (max(stamps) - min(stamps)).total_seconds() if stamps else 0.0


def longest_first(source: Path, notebooks: list[Path]) -> list[Path]:
    """The notebooks, longest first: by the previous build's times, else by the nbval references'
    recorded times (a fresh clone), else in the table of contents' order (a stable sort)."""
    try:
        previous = json.loads((source / "_build" / "notebook-seconds.json").read_text())
    except (OSError, ValueError):
        previous = {}
    golden = Path(__file__).resolve().parents[1] / "tests" / "golden"

    def seconds(path: Path) -> float:
        name = str(path.relative_to(source))
        return float(previous[name]) if name in previous else recorded_seconds(golden / f"{path.stem}.ipynb")

    return sorted(notebooks, key=lambda p: -seconds(p))


def execute_all(source: Path, jobs: int, timeout: int | None) -> dict[str, float]:
    """Execute every notebook of ``source``'s table of contents into its build's jupyter-cache.

    Returns the seconds each notebook took. Raises ``SystemExit(1)`` with the traceback of the
    first notebook that fails (the others are not cached).
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    build = source / "_build"
    notebooks = longest_first(source, [p for p in toc_files(source) if is_notebook(p)])
    (build / ".jupyter_cache").mkdir(parents=True, exist_ok=True)
    cache = get_cache(str(build / ".jupyter_cache"))
    seconds: dict[str, float] = {}
    failures: list[str] = []
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(notebooks)))) as pool:
        futures = [pool.submit(_execute, str(p), timeout) for p in notebooks]
        for future in futures:
            path, text, took, error = future.result()
            name = Path(path).relative_to(source)
            if error is not None:
                failures.append(f"error: executing {name} failed:\n{error}")
                continue
            nb = nbformat.reads(text, as_version=4)
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, path, data={"execution_seconds": took}), check_validity=False, overwrite=True
            )
            seconds[str(name)] = round(took, 1)
            print(f"executed {name} in {took:.1f} s", flush=True)
    if failures:
        print("\n".join(failures), file=sys.stderr, flush=True)
        raise SystemExit(1)
    return seconds


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ours, flags = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=".", type=Path, help="the book's root folder")
    parser.add_argument(
        "--jobs", type=int, default=len(os.sched_getaffinity(0)), help="notebooks executed at once (default: the CPUs)"
    )
    args = parser.parse_args(ours)
    if args.jobs < 1:
        parser.exit(2, f"error: --jobs must be at least 1, got {args.jobs}\n")
    source = args.source.resolve()
    build = source / "_build"
    for stale in STALE:
        shutil.rmtree(build / stale, ignore_errors=True)
    config = yaml.safe_load((source / "_config.yml").read_text()) or {}
    timeout = (config.get("execute") or {}).get("timeout")
    start = time.perf_counter()
    seconds = execute_all(source, args.jobs, timeout)
    print(f"executed {len(seconds)} notebooks in {time.perf_counter() - start:.1f} s with {args.jobs} jobs", flush=True)
    (build / "notebook-seconds.json").write_text(json.dumps(seconds, indent=1, sort_keys=True) + "\n")
    token, extension = uuid.uuid4().hex, _extension()
    (build / ".jupyter_cache" / extension.TOKEN_FILE).write_text(token)
    jupyter_book = str(Path(sys.executable).parent / "jupyter-book")
    env = {**os.environ, extension.TOKEN_ENV: token}
    return subprocess.run([jupyter_book, "build", str(source), *flags], cwd=source, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
