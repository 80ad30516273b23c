"""Two fixes to the HTML pages of the Jupyter Book 1 stack, found by the browser test.

* sphinx-thebe 0.3.1 registers its inline configuration script once per read pass, so every page
  declared ``const THEBE_JS_URL`` twice and the browser logged a SyntaxError. Identical scripts
  are kept once.
* pydata-sphinx-theme logs "Got invalid theme mode" on a first visit when no default colour mode
  is set; ``_config.yml`` sets one (``html_context.default_mode``).
"""

from __future__ import annotations


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    if "script_files" not in context:
        return
    seen: set = set()
    unique = []
    for script in context["script_files"]:
        attributes = getattr(script, "attributes", {})
        # An inline script's filename is None when registered before the build and '' after it.
        key = (
            str(getattr(script, "filename", script) or ""),
            tuple(sorted((k, str(v)) for k, v in attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # In place: the list is the builder's own, which later handlers and the template still read.
    context["script_files"][:] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)  # after the handlers that add scripts
    return {"parallel_read_safe": True, "parallel_write_safe": True}
