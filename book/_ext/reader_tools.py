"""Reader-facing additions to the Jupyter Book 1 build, found missing when the book was read.

* **Alt text.** Sphinx writes an image's file name (a hash) as its ``alt`` when the source gives
  none, and no glued figure has one. Every image inside a figure gets its caption as ``alt``;
  an image outside a figure (a cell's direct output) gets the title of its section.
* **``.ipynb`` downloads.** sphinx-book-theme offers the executed notebook only when a launch
  service is configured; this book has no public repository URL yet (``_config.yml``,
  ``repository.url``), so every notebook page gets the download here, from the notebook myst-nb
  executed for the page.
* **Author-year bibliography.** The citations read "(Ding et al., 2024)"; the reference list
  gets the same labels instead of [1]–[5] (a pybtex label style, registered here).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from docutils import nodes


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _alt_from_captions(app, doctree, docname) -> None:
    for figure in doctree.findall(nodes.figure):
        captions = list(figure.findall(nodes.caption))
        text = _plain(captions[0].astext()) if captions else ""
        for image in figure.findall(nodes.image):
            if text and not image.get("alt"):
                image["alt"] = text
    for image in doctree.findall(nodes.image):
        if image.get("alt"):
            continue
        section = next((p for p in _ancestors(image) if isinstance(p, nodes.section)), None)
        title = section.next_node(nodes.title) if section is not None else None
        image["alt"] = f"Figure of the section “{_plain(title.astext())}”" if title else "Figure"


def _ancestors(node):
    while node.parent is not None:
        node = node.parent
        yield node


def _add_ipynb_download(app, pagename, templatename, context, doctree) -> None:
    if context.get("ipynb_source") or "header_buttons" not in context:
        return  # the theme made one (a launch service is configured), or the page has no buttons
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.exists():
        return  # not a notebook page
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    button = {
        "type": "link",
        "url": f"{context['pathto']('_sources', 1)}/{pagename}.ipynb",
        "text": ".ipynb",
        "icon": "fas fa-code",
        "tooltip": "Download notebook file",
        "label": "download-notebook-button",
    }
    for group in context["header_buttons"]:
        if group.get("label") == "download-buttons":
            group["buttons"].insert(0, button)


def _register_author_year() -> None:
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.plain import Style as PlainStyle
    from pybtex.style.labels import BaseLabelStyle

    class AuthorYearLabels(BaseLabelStyle):
        """``Ding et al., 2024`` — the label the author-year citations of the text print."""

        def format_labels(self, sorted_entries):
            for entry in sorted_entries:
                persons = entry.persons.get("author") or entry.persons.get("editor") or []
                names = [" ".join(p.last_names) for p in persons]
                who = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."
                yield f"{who}, {entry.fields.get('year', 'n.d.')}"

    class AuthorYearStyle(PlainStyle):
        default_label_style = "authoryear"
        default_sorting_style = "author_year_title"

    register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


def setup(app):
    _register_author_year()
    app.connect("doctree-resolved", _alt_from_captions)
    app.connect("html-page-context", _add_ipynb_download, priority=502)  # after the theme's buttons (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
