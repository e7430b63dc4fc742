"""The files a deployment reads stay true: requirements.txt equals pyproject.toml's
dependencies, cloud.yml is one Reflex hosting's own parser accepts and names the
production secrets, and `make run` / `make dev` are demo mode while production is not.
(`reflex export` itself runs in tests/e2e/test_reflex_export.py: it takes minutes.)"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values
from reflex_cli.core.config import Config as CloudConfig

from cloodot_app.settings import Settings, allowed_origins
from cloodot_app.startup import check_configuration

ROOT = Path(__file__).resolve().parents[2]
# What a production deployment must set (README, "Deploying").
PRODUCTION_SECRETS = {
    "CLOODOT_APP_URL",
    "CLOODOT_SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "CLOODOT_DEMO_MODE",
    "CLOODOT_DEMO_CONTACTS",
}


def _requirements_module():
    spec = importlib.util.spec_from_file_location("requirements", ROOT / "scripts/requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_txt_is_generated_from_pyproject():
    module = _requirements_module()
    assert (ROOT / "requirements.txt").read_text() == module.requirements_text(), (
        "requirements.txt differs from pyproject.toml: run python scripts/requirements.py"
    )


def test_the_requirements_generator_follows_pyproject(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["reflex[db]==0.10.1", "a>=1"]\n')
    text = _requirements_module().requirements_text(pyproject)
    assert text.splitlines()[-2:] == ["reflex[db]==0.10.1", "a>=1"]
    assert text.startswith("# Generated from pyproject.toml")


def test_cloud_yml_is_valid_for_reflex_hosting():
    config = CloudConfig.from_yaml(ROOT / "cloud.yml")
    assert config.name and config.name != "default"
    assert config.envfile == ".env.production"
    assert config.regions and config.vmtype


def test_cloud_yml_names_every_production_secret():
    text = (ROOT / "cloud.yml").read_text()
    named = set(re.findall(r"^#\s+([A-Z][A-Z_]+)\s", text, flags=re.MULTILINE))
    assert named == PRODUCTION_SECRETS


def test_the_production_env_template_sets_every_secret_with_demo_off(monkeypatch):
    values = dotenv_values(ROOT / ".env.production.example")
    assert set(values) == PRODUCTION_SECRETS
    assert values["CLOODOT_DEMO_MODE"] == "0"
    assert values["CLOODOT_DEMO_CONTACTS"] == "0"
    assert values["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert values["REDIS_URL"].startswith("redis://")
    for name, value in values.items():
        monkeypatch.setenv(name, value or "")
    monkeypatch.setenv("CLOODOT_SECRET_KEY", "x" * 43)  # what the operator fills in
    production = Settings()
    assert not production.demo_mode and production.demo_contacts == 0
    assert production.several_workers, "Redis: several workers share the state"
    check_configuration(production)  # starts
    assert allowed_origins(production.app_url) == ["https://contacts.example.com"]


def test_the_filled_in_env_file_is_never_committed():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".env.production"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0


@pytest.mark.parametrize("target", ["run", "dev"])
def test_make_run_and_make_dev_are_demo_mode(target):
    commands = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    [start] = [line for line in commands.splitlines() if "reflex run" in line]
    assert "CLOODOT_DEMO_MODE=${CLOODOT_DEMO_MODE:-1}" in start


def test_the_readme_documents_the_production_and_demo_settings():
    readme = (ROOT / "README.md").read_text()
    deploying = readme.split("## Deploying", 1)[1]
    for name in PRODUCTION_SECRETS:
        assert f"| `{name}`" in deploying, f"the Deploying table lacks {name}"
    configuration = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for name in ("CLOODOT_APP_URL", "CLOODOT_DEMO_MODE", "CLOODOT_DEMO_TRAFFIC_SECONDS"):
        assert f"| `{name}`" in configuration, f"the configuration table lacks {name}"


def _rxconfig_frontend_port(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "FRONTEND_PORT"}
    return (
        subprocess.run(
            [sys.executable, "-c", "import rxconfig; print(rxconfig.config.frontend_port)"],
            cwd=ROOT,
            env={**clean, **env},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        .stdout.strip()
        .splitlines()[-1]
    )


def test_the_backend_can_start_alone():
    """`reflex run --backend-only` (how a host may start the backend) refuses to start when
    the config names a frontend port; rxconfig names one only when FRONTEND_PORT asks."""
    assert _rxconfig_frontend_port() == "None"
    assert _rxconfig_frontend_port(FRONTEND_PORT="4123") == "4123"
