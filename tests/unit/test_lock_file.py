"""requirements.lock pins every dependency pyproject.toml declares, with hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)")


def pins() -> dict[str, list[str]]:
    """Package -> pinned versions (one per environment marker), from the lock."""
    pinned: dict[str, list[str]] = {}
    text = (ROOT / "requirements.lock").read_text()
    for entry in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = PIN.match(entry)
        if match:
            assert "--hash=sha256:" in entry, f"{match.group(1)} has no hash"
            pinned.setdefault(canonicalize_name(match.group(1)), []).append(match.group(2))
    return pinned


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]


def test_every_declared_dependency_is_pinned_in_the_lock():
    """Fails when a dependency was added to pyproject.toml without `make lock`."""
    pinned = pins()
    for requirement in declared():
        versions = pinned.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in requirements.lock: run `make lock`"
        assert any(requirement.specifier.contains(v, prereleases=True) for v in versions), (
            f"requirements.lock pins {requirement.name} {versions}, pyproject.toml asks for "
            f"{requirement.specifier}: run `make lock`"
        )


def test_the_lock_pins_exact_versions():
    assert len(pins()) > 50
