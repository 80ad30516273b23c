"""The book builds with every notebook executed, fails loudly, and renders in a real browser.

One build (the fixture ``built_book``) serves the build test, the notebook regression test (the
outputs the build executed against the nbval references: each notebook runs once per
``make test``) and the browser test, which live in this file so that pytest-xdist's
``--dist loadfile`` keeps them on one worker.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.nbrefs import compare_build

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")
BUILD_FLAGS = ["--all", "-W", "-n", "--keep-going"]
# Chromium flags that work headless as root with no network (see ../shared/toolchain.md).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def _build(source: Path) -> subprocess.CompletedProcess:
    # jupyter_execute too: the regression test must never read a previous build's outputs.
    for stale in ("html", "jupyter_execute", ".doctrees"):
        shutil.rmtree(source / "_build" / stale, ignore_errors=True)
    return subprocess.run(
        [JUPYTER_BOOK, "build", str(source), *BUILD_FLAGS], capture_output=True, text=True, check=False, cwd=source
    )


@pytest.fixture(scope="module")
def built_book() -> subprocess.CompletedProcess:
    """Build the real book once, from a clean ``_build/html``, exactly as ``make book`` does."""
    return _build(ROOT)


@pytest.mark.slow
def test_book_builds_with_warnings_as_errors(built_book):
    log = built_book.stdout + built_book.stderr
    assert built_book.returncode == 0, log[-4000:]
    assert "WARNING" not in log.replace("[IPKernelApp] WARNING | Kernel is running over TCP", ""), log[-4000:]
    assert (HTML / "index.html").exists()


@pytest.mark.slow
def test_every_toc_entry_is_rendered_with_its_executed_outputs(built_book):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    for file in files:
        page = HTML / f"{file}.html"
        assert page.exists(), f"{file} was not rendered"
    for notebook in sorted((ROOT / "notebooks").glob("*.md")):
        html = (HTML / "notebooks" / f"{notebook.stem}.html").read_text()
        assert "cell_output" in html, f"{notebook.name} shows no executed output"


@pytest.mark.slow
@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_built_notebook_reproduces_its_reference_outputs(built_book, source):
    """nbval's check, on the build's own execution (tests/nbrefs.py: ``compare_build``)."""
    assert built_book.returncode == 0, "the book did not build"
    problems = compare_build(ROOT / "_build", source)
    assert not problems, "\n\n".join(problems) + (
        "\n\nIf the change is intended, regenerate the reference: tests/nbrefs.py " + str(source.relative_to(ROOT))
    )


def _pages() -> list[Path]:
    """Every content page; the root ``index.html`` only redirects (``http-equiv="refresh"``)."""
    return sorted(
        p for p in HTML.rglob("*.html")
        if "_static" not in p.parts and p.name not in {"genindex.html", "search.html"}
        and 'http-equiv="refresh"' not in p.read_text().lower()
    )


@pytest.mark.slow
def test_pages_load_offline_with_typeset_math_and_loaded_images(built_book):
    from playwright.sync_api import sync_playwright

    assert built_book.returncode == 0, "the book did not build"
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
        # The network is off: anything but a local file is refused and reported.
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
        for path in _pages():
            name = str(path.relative_to(HTML))
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            page.on("requestfailed", lambda req, errors=errors: errors.append(f"request failed: {req.url}"))
            page.goto(path.as_uri(), wait_until="load")
            if page.evaluate("() => document.querySelector('script[src*=mathjax]') !== null"):
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
                page.evaluate("() => MathJax.startup.promise")
            report = page.evaluate(
                """() => {
                    const hasMath = document.querySelector('.math, span.math, div.math') !== null;
                    const typeset = document.querySelectorAll('mjx-container').length;
                    const prose = Array.from(document.querySelectorAll('article p, article li, article td'))
                        .map(e => e.innerText).join('\\n');
                    const images = Array.from(document.images).map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0}));
                    return {hasMath, typeset, rawMath: prose.includes('$$') || /\\\\\\(|\\\\\\[/.test(prose), images};
                }"""
            )
            page.screenshot(path=str(SCREENSHOTS / (name.replace("/", "__").replace(".html", ".png"))), full_page=True)
            page.close()
            if errors:
                problems.append(f"{name}: console errors {errors}")
            if report["hasMath"] and report["typeset"] == 0:
                problems.append(f"{name}: math present but not typeset")
            if report["rawMath"]:
                problems.append(f"{name}: raw TeX delimiters left in the text")
            problems += [f"{name}: image did not load: {img['src']}" for img in report["images"] if not img["ok"]]
        browser.close()
    assert not problems, "\n".join(problems)
    assert len(list(SCREENSHOTS.glob("*.png"))) >= len(_pages()) >= 3
