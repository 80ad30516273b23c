"""One source of pins: pyproject.toml -> requirements/lock.txt (``make lock``) -> environment.yml, venv.

pyproject.toml holds the requirements with lower bounds, the lock the exact resolved set, and
environment.yml (conda users) and ``make venv`` both install the package's ``dev`` extra
constrained by the lock, so no version is written twice.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from rattler import MatchSpec

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"


def _lock() -> dict[str, str]:
    """``{canonical name: version}`` of every ``name==version`` line of the lock."""
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith(("#", " ")):
            name, _, version = line.partition("==")
            assert version and name == name.strip(), f"not an exact pin in the lock: {line!r}"
            assert canonicalize_name(name) not in pins, f"{name} is locked twice"
            pins[canonicalize_name(name)] = version
    return pins


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _requirements() -> list[Requirement]:
    """Every requirement of the package and of its extras, without its references to itself."""
    project = _project()
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    return [r for r in reqs if canonicalize_name(r.name) != canonicalize_name(project["name"])]


def _env() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _makefile_recipe(target: str) -> str:
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", text, flags=re.M)
    assert match, f"no recipe for {target} in the Makefile"
    return match.group(1)


def test_environment_has_the_expected_structure():
    env = _env()
    assert set(env) == {"name", "channels", "dependencies"}
    assert env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = [d for d in env["dependencies"] if isinstance(d, dict)]
    assert "pip" in conda and len(pip) == 1 and set(pip[0]) == {"pip"}


def test_every_conda_spec_parses_and_python_is_the_locked_minor():
    conda = [d for d in _env()["dependencies"] if isinstance(d, str)]
    for spec in conda:
        MatchSpec(spec)
    python = [d for d in conda if str(MatchSpec(d)).startswith("python")]
    assert python == ["python=3.11"], python
    # The lock is resolved for 3.11 (Makefile LOCK_FLAGS); requires-python must admit it.
    assert "--python-version 3.11." in (ROOT / "Makefile").read_text()
    assert _project()["requires-python"] == ">=3.11"


def test_environment_installs_what_make_venv_installs_and_pins_nothing_itself():
    pip = [r.split("#")[0].strip() for r in next(d["pip"] for d in _env()["dependencies"] if isinstance(d, dict))]
    assert pip == ["-c requirements/lock.txt", "-e .[dev]"], pip
    venv = _makefile_recipe("$(STAMP)")
    assert "-c requirements/lock.txt -e '.[dev]'" in venv, venv
    assert "dev" in _project()["optional-dependencies"]


def test_the_lock_is_derived_from_pyproject_by_make_lock():
    recipe = _makefile_recipe("lock")
    assert "pip compile pyproject.toml $(LOCK_FLAGS)" in recipe and "/uv" in recipe
    assert "--extra dev" in (ROOT / "Makefile").read_text()
    assert LOCK.read_text().startswith((ROOT / "requirements" / "lock-header.txt").read_text())
    assert not (ROOT / "requirements" / "base.in").exists(), "a second list of requirements"


def test_every_requirement_is_locked_at_a_version_it_admits():
    lock = _lock()
    for req in _requirements():
        name = canonicalize_name(req.name)
        assert name in lock, f"{req} is not in the lock: run `make lock`"
        assert req.specifier.contains(Version(lock[name]), prereleases=True), (
            f"the lock's {name}=={lock[name]} does not satisfy pyproject.toml's {req}: run `make lock`"
        )


def test_the_linear_side_needs_no_deep_requirement():
    base = {canonicalize_name(Requirement(r).name) for r in _project()["dependencies"]}
    assert not base & {"torch", "torchvision", "scikit-learn", "filelock", "ray", "submitit"}
    deep = {canonicalize_name(Requirement(r).name) for r in _project()["optional-dependencies"]["deep"]}
    assert {"torch", "torchvision"} <= deep


def test_the_required_pins_are_locked():
    lock = _lock()
    assert lock["jupyter-book"] == "1.0.4.post1"
    assert lock["torch"] == "2.14.1" and lock["torchvision"] == "0.29.1"
    for name in ("sphinx", "myst-nb", "myst-parser", "docutils", "sphinx-book-theme", "jupyter-cache", "nbclient"):
        assert name in lock, f"{name} is not locked"
    for tool in ("ruff", "mypy", "uv"):
        assert tool in lock, f"the lint/lock tool {tool} is not locked"
    assert "rbmlib" not in lock and "pip" not in lock


def test_this_environment_follows_the_lock():
    # The venv the tests run in was installed from the lock: every locked package it holds is at
    # the locked version (a stale venv or a hand `pip install` shows up here).
    lock = _lock()
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    drift = {n: (installed[n], v) for n, v in lock.items() if n in installed and installed[n] != v}
    assert not drift, f"installed vs locked: {drift} (rerun `make venv`)"
    missing = {canonicalize_name(r.name) for r in _requirements()} - set(installed)
    assert not missing, f"requirements not installed: {sorted(missing)} (rerun `make venv`)"
