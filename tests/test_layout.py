"""The project's layout keeps its promises: every app's tests are collected."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_app_with_tests_is_in_the_test_paths():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    testpaths = set(config["tool"]["pytest"]["ini_options"]["testpaths"])
    apps_with_tests = {path.parent.name for path in ROOT.glob("*/tests") if path.is_dir()}
    assert apps_with_tests - {".venv"} <= testpaths, sorted(apps_with_tests - testpaths)
