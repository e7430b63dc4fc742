"""Write requirements.txt from pyproject.toml's [project] dependencies (Reflex hosting
installs requirements.txt; tests/unit/test_deploy_files.py keeps the two equal).

    python scripts/requirements.py          # rewrite requirements.txt
    python scripts/requirements.py --check  # exit 1 when it differs
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "# Generated from pyproject.toml ([project] dependencies) by "
    "`python scripts/requirements.py`:\n"
    "# edit pyproject.toml, then run it. Reflex hosting installs this file.\n"
)


def requirements_text(pyproject: Path = ROOT / "pyproject.toml") -> str:
    with pyproject.open("rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    return HEADER + "".join(f"{dependency}\n" for dependency in dependencies)


def main(argv: list[str]) -> int:
    target = ROOT / "requirements.txt"
    text = requirements_text()
    if "--check" in argv:
        current = target.read_text() if target.exists() else ""
        if current != text:
            print("requirements.txt differs from pyproject.toml: run scripts/requirements.py")
            return 1
        return 0
    target.write_text(text)
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
