"""The book builds with every notebook executed, fails loudly, and renders in a real browser.

One build (the fixture ``built_book``) serves the build test, the notebook regression test (the
outputs the build executed against the nbval references: each notebook runs once per
``make test``) and the browser test, which live in this file so that pytest-xdist's
``--dist loadfile`` keeps them on one worker.
"""

from __future__ import annotations

import asyncio
import re
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
BUILD_BOOK = ROOT / "tools" / "build_book.py"
BUILD_FLAGS = ["--all", "-W", "-n", "--keep-going"]
# Chromium flags that work headless as root with no network (see ../shared/toolchain.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _build(source: Path) -> subprocess.CompletedProcess:
    """``make book``'s build of ``source``: every notebook executed once (in parallel, into a fresh
    jupyter-cache), then rendered from a clean ``_build`` (tools/build_book.py clears html,
    jupyter_execute, doctrees and the cache, so no test ever reads a previous build's outputs)."""
    return subprocess.run(
        [sys.executable, str(BUILD_BOOK), str(source), "--", *BUILD_FLAGS],
        capture_output=True,
        text=True,
        check=False,
        cwd=source,
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
def test_every_notebook_is_executed_once_and_rendered_from_that_execution(built_book):
    """The parallel pre-execution ran each notebook; Sphinx executed none again (it found each in
    the cache this build filled), so the outputs compared below are the only execution."""
    log = built_book.stdout + built_book.stderr
    executed = re.findall(r"^executed (\S+) in [\d.]+ s$", log, flags=re.MULTILINE)
    expected = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
    assert set(expected) <= set(executed) and len(executed) == len(set(executed)), executed
    assert "Executing notebook using" not in log, "Sphinx executed a notebook a second time"


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
        p
        for p in HTML.rglob("*.html")
        if "_static" not in p.parts
        and p.name not in {"genindex.html", "search.html"}
        and 'http-equiv="refresh"' not in p.read_text().lower()
    )


#: Viewport widths every page is read at: a laptop screen and a phone (CSS pixels).
WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}

#: The page's state, read in the browser after MathJax has typeset: math, images, overflow, code.
INSPECT_JS = """() => {
    const article = document.querySelector('article.bd-article') || document.querySelector('main');
    const column = article.getBoundingClientRect();
    const hasMath = document.querySelector('.math, span.math, div.math') !== null;
    const typeset = document.querySelectorAll('mjx-container').length;
    const prose = Array.from(document.querySelectorAll('article p, article li, article td'))
        .map(e => e.innerText).join('\\n');
    const images = Array.from(document.images).map(i => ({src: i.src, alt: i.getAttribute('alt') || '',
                                                           ok: i.complete && i.naturalWidth > 0}));
    const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
        ' "' + Array.from(el.innerText || el.getAttribute('alt') || '').slice(0, 40).join('').replace(/\\s+/g, ' ') + '"';
    const overflowing = [];
    for (const el of article.querySelectorAll('*')) {
        if (el.closest('mjx-assistive-mml')) continue;  // MathJax's copy for screen readers, never drawn
        const rects = el.getClientRects();
        if (rects.length === 0) continue;  // not rendered (inside a closed toggle)
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.right <= column.right + 1) continue;
        let p = el.parentElement, inScroller = false;
        while (p && p !== article) { if (scrolls(p)) { inScroller = true; break; } p = p.parentElement; }
        if (!inScroller) overflowing.push(describe(el) + ' right=' + Math.round(box.right) + ' > ' + Math.round(column.right));
    }
    // Content cut off by a box that neither shows nor scrolls it (overflow hidden/clip).
    const clipped = Array.from(article.querySelectorAll('pre, table, div.math, mjx-container, figure, img'))
        .filter(el => el.getClientRects().length && el.scrollWidth > el.clientWidth + 1 &&
                      ['hidden', 'clip'].includes(getComputedStyle(el).overflowX))
        .map(describe);
    // A table that hides part of itself to the right must say so (reader.js marks it rbm-more).
    const unmarked = Array.from(article.querySelectorAll('.pst-scrollable-table-container, .table-wrapper'))
        .filter(el => el.getClientRects().length && el.scrollLeft + el.clientWidth < el.scrollWidth - 1 &&
                      !el.classList.contains('rbm-more'))
        .map(describe);
    const visibleGlue = Array.from(document.querySelectorAll('.cell_input'))
        .filter(el => el.getClientRects().length > 0 && /\\bglue\\w*\\(/.test(el.innerText))
        .map(el => el.innerText.slice(0, 60));
    // Captions in the body's contrast: the same colour as the prose and no light font weight.
    const body = document.querySelector('article p');
    const mutedCaptions = Array.from(document.querySelectorAll('figcaption')).filter(c => {
        const cs = getComputedStyle(c);
        return body && (cs.color !== getComputedStyle(body).color || Number(cs.fontWeight) < 400);
    }).map(describe);
    return {hasMath, typeset, mutedCaptions, rawMath: prose.includes('$$') || /\\\\\\(|\\\\\\[/.test(prose) ||
            /\\\\(frac|sum|mathrm|operatorname|big|top)\\b/.test(prose), images,
            overflowing, clipped, visibleGlue, unmarked,
            pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth};
}"""

#: The reader tools of ``book/_static/reader.js``: a click on a figure opens the zoomed view and
#: Escape closes it; before printing every closed dropdown (proofs) opens, after it closes again.
TOOLS_JS = """() => {
    const out = {zoom: null, print: null};
    const img = document.querySelector('.bd-article figure img');
    if (img) {
        img.click();
        const opened = document.querySelector('.rbm-zoom img') !== null;
        document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}));
        out.zoom = opened && document.querySelector('.rbm-zoom') === null;
    }
    const closed = Array.from(document.querySelectorAll('details.sd-dropdown:not([open])'));
    if (closed.length) {
        window.dispatchEvent(new Event('beforeprint'));
        const allOpen = closed.every(d => d.open);
        window.dispatchEvent(new Event('afterprint'));
        out.print = allOpen && closed.every(d => !d.open);
    }
    return out;
}"""

#: An ``alt`` that is only a file name (Sphinx's default when a figure has none).
_FILE_NAME_ALT = re.compile(r"^[\w.-]+\.(png|jpe?g|svg|gif)$", re.IGNORECASE)


def _problems(name: str, width: str, report: dict) -> list[str]:
    """Every reader-facing defect in one page's :data:`INSPECT_JS` report, one line each."""
    where = f"{name} at {width} px"
    out = []
    if report["hasMath"] and report["typeset"] == 0:
        out.append(f"{where}: math present but not typeset")
    if report["rawMath"]:
        out.append(f"{where}: raw TeX delimiters left in the text")
    for img in report["images"]:
        if not img["ok"]:
            out.append(f"{where}: image did not load: {img['src']}")
        if not img["alt"].strip() or _FILE_NAME_ALT.match(img["alt"].strip()):
            out.append(f"{where}: image without alt text: {img['src']} (alt={img['alt']!r})")
    if report["pageWidth"] > report["viewport"] + 1:
        out.append(f"{where}: the page scrolls sideways ({report['pageWidth']} > {report['viewport']} px)")
    out += [f"{where}: overflows its column without scrolling: {e}" for e in report["overflowing"][:5]]
    out += [f"{where}: content clipped: {e}" for e in report["clipped"][:5]]
    out += [f"{where}: visible code cell glues: {c!r}" for c in report["visibleGlue"]]
    out += [f"{where}: a table hides columns without saying so: {e}" for e in report.get("unmarked", [])[:5]]
    out += [f"{where}: caption fainter than the text: {c}" for c in report.get("mutedCaptions", [])]
    tools = report.get("tools", {})
    if tools.get("zoom") is False:
        out.append(f"{where}: a click on a figure does not open (or Escape does not close) the zoomed view")
    if tools.get("print") is False:
        out.append(f"{where}: printing does not expand the proofs (or does not fold them back)")
    return out


async def _await_math(page) -> None:
    """Wait until MathJax has typeset the page (a condition, not a fixed delay)."""
    if await page.evaluate("() => document.querySelector('script[src*=mathjax]') !== null"):
        await page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000
        )
        await page.evaluate("() => MathJax.startup.promise")


async def _read_pages(browser, width: str, pages: list[Path]) -> list[str]:
    """Every page at one width in its own offline browser context: the defects, one line each."""
    context = await browser.new_context(offline=True, viewport=WIDTHS[width])
    # The network is off: anything but a local file is refused and reported.
    await context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort()
    )
    problems: list[str] = []
    for path in pages:
        name = str(path.relative_to(HTML))
        page = await context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.on("requestfailed", lambda req, errors=errors: errors.append(f"request failed: {req.url}"))
        await page.goto(path.as_uri(), wait_until="load")
        await _await_math(page)
        # Two frames, so that layout observers (reader.js's table marks) have seen the typeset page.
        await page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        report = await page.evaluate(INSPECT_JS)
        report["tools"] = await page.evaluate(TOOLS_JS)
        shot = name.replace("/", "__").replace(".html", f"@{width}.png")
        await page.screenshot(path=str(SCREENSHOTS / shot), full_page=True)
        await page.close()
        if errors:
            problems.append(f"{name} at {width} px: console errors {errors}")
        problems += _problems(name, width, report)
    await context.close()
    return problems


async def _read_book(chromium: str, pages: list[Path]) -> list[str]:
    """Both widths at once: two contexts of one browser, whose renderers run on separate cores."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        found = await asyncio.gather(*(_read_pages(browser, width, pages) for width in WIDTHS))
        await browser.close()
    return [line for lines in found for line in lines]


@pytest.mark.slow
def test_pages_load_offline_with_typeset_math_and_loaded_images(built_book):
    """Every page at 1280 px and 390 px: offline, math typeset, images loaded with alt text, no
    element wider than its column unless it scrolls, no visible code that glues; screenshots of
    both widths under ``_build/screenshots/`` (cleared first)."""
    assert built_book.returncode == 0, "the book did not build"
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # screenshots of this run only
    SCREENSHOTS.mkdir(parents=True)
    pages = _pages()
    problems = asyncio.run(_read_book(chromium, pages))
    assert not problems, "\n".join(problems)
    assert len(list(SCREENSHOTS.glob("*.png"))) == len(WIDTHS) * len(pages) >= 2 * 3


def test_problems_flags_every_reader_defect():
    """The checks of the browser test can fail: a report with each defect yields one line each."""
    clean = {
        "hasMath": True,
        "typeset": 3,
        "rawMath": False,
        "pageWidth": 390,
        "viewport": 390,
        "images": [{"src": "a.png", "alt": "Loss against step", "ok": True}],
        "overflowing": [],
        "clipped": [],
        "visibleGlue": [],
    }
    assert _problems("p.html", "390", clean) == []
    bad = {
        **clean,
        "typeset": 0,
        "rawMath": True,
        "pageWidth": 500,
        "images": [{"src": "a.png", "alt": "3f2a9c.png", "ok": False}, {"src": "b.png", "alt": "", "ok": True}],
        "overflowing": ["table"],
        "clipped": ["pre"],
        "visibleGlue": ["glue_values({...})"],
        "unmarked": ["div.pst-scrollable-table-container"],
        "tools": {"zoom": False, "print": False},
        "mutedCaptions": ["figcaption"],
    }
    lines = _problems("p.html", "390", bad)
    assert len(lines) == 13 and all(line.startswith("p.html at 390 px: ") for line in lines)
    assert _problems("p.html", "390", {**clean, "tools": {"zoom": None, "print": True}}) == []
