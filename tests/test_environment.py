"""environment.yml (conda users) names the same packages at the same pins as the pip path."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from rattler import MatchSpec

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_name(name)] = version
    return pins


def _direct() -> list[str]:
    lines = (ROOT / "requirements" / "base.in").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def _env() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def test_environment_has_the_expected_structure():
    env = _env()
    assert set(env) == {"name", "channels", "dependencies"}
    assert env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = [d for d in env["dependencies"] if isinstance(d, dict)]
    assert "pip" in conda and len(pip) == 1 and set(pip[0]) == {"pip"}


def test_every_conda_spec_parses():
    for spec in (d for d in _env()["dependencies"] if isinstance(d, str)):
        MatchSpec(spec)
    assert any(str(MatchSpec(d)).startswith("python") and "3.11" in d for d in _env()["dependencies"] if isinstance(d, str))


def test_pip_section_matches_requirements_and_lock():
    pip = next(d["pip"] for d in _env()["dependencies"] if isinstance(d, dict))
    packages = {_name(r): r.split("==")[1] for r in pip if not r.startswith("-")}
    direct = {_name(r) for r in _direct()}
    assert set(packages) == direct, f"environment.yml vs requirements/base.in: {set(packages) ^ direct}"
    lock = _lock()
    mismatched = {n: (v, lock.get(n)) for n, v in packages.items() if lock.get(n) != v}
    assert not mismatched, f"pins differ from requirements/lock.txt: {mismatched}"
    assert "-c requirements/lock.txt" in [r.split("#")[0].strip() for r in pip]
    assert "-e ." in pip


def test_the_required_pins_are_locked():
    lock = _lock()
    assert lock["jupyter-book"] == "1.0.4.post1"
    assert lock["torch"] == "2.14.1" and lock["torchvision"] == "0.29.1"
    for name in ("sphinx", "myst-nb", "myst-parser", "docutils", "sphinx-book-theme", "jupyter-cache", "nbclient", "ipykernel"):
        assert name in lock, f"{name} is not locked"
    for requirement in _direct():
        assert _name(requirement) in lock, f"{requirement} is not in the lock"
