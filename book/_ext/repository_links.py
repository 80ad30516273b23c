"""Launch (Binder) and repository buttons for a book built from a clone that has a public remote.

``_config.yml`` cannot name the repository's URL: the book is meant to be cloned and forked, and
no URL is the project's own. So the URL is read at build time from the clone's ``origin`` remote:
a GitHub or GitLab remote (https or ssh) turns on the repository button and a Binder launch
button on every notebook page (Binder builds ``environment.yml`` and opens the MyST notebooks
through jupytext). A clone without such a remote (like the one the tests build) gets neither,
rather than a button that leads nowhere. A URL set in ``_config.yml`` always wins.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

BINDER = "https://mybinder.org"
_SSH = re.compile(r"^git@(github\.com|gitlab\.com):([\w.-]+)/([\w.-]+?)(\.git)?$")
_HTTPS = re.compile(r"^https://(github\.com|gitlab\.com)/([\w.-]+)/([\w.-]+?)(\.git)?/?$")


def public_url(remote: str) -> str | None:
    """The https URL of a GitHub/GitLab remote (``git@host:org/repo.git`` or https), else None."""
    match = _SSH.match(remote.strip()) or _HTTPS.match(remote.strip())
    return f"https://{match[1]}/{match[2]}/{match[3]}" if match else None


def origin_remote(folder: Path) -> str:
    """``git remote get-url origin`` in ``folder``; empty when there is no git or no origin."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "remote", "get-url", "origin"], capture_output=True, text=True, check=False
        )
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def theme_options(options: dict, remote: str) -> dict:
    """``options`` with the repository and Binder buttons turned on for a public ``remote``."""
    url = options.get("repository_url") or public_url(remote)
    if not url:
        return options
    launch = dict(options.get("launch_buttons") or {})
    launch["binderhub_url"] = launch.get("binderhub_url") or BINDER
    return {**options, "repository_url": url, "use_repository_button": True, "launch_buttons": launch}


def _on_config_inited(app, config) -> None:
    config.html_theme_options = theme_options(dict(config.html_theme_options), origin_remote(Path(app.srcdir)))


def setup(app):
    app.connect("config-inited", _on_config_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
