"""pyproject.toml: the project builds with the standard tools (issue 10).

CI (.ci/run) goes further: `pip install -e .` into a fresh virtualenv, then
`manage.py check` with it.
"""

import email
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel pip builds from a copy of the checkout (so no build/ or
    egg-info is left in the working tree)."""
    source = tmp_path_factory.mktemp("checkout")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT / name, source / name)
    for name in ("config", "blog", "templates", "static", "tests", "bench"):
        shutil.copytree(
            PROJECT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, source],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (built,) = out.glob("dateline-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_ships_config_and_blog_and_nothing_else(wheel):
    """A flat checkout builds (no "Multiple top-level packages discovered"):
    the wheel holds config and blog with its migrations, commands, template
    tags and demo articles, and never tests/ or bench/."""
    names = set(wheel.namelist())
    tops = {name.split("/")[0] for name in names if "dist-info" not in name}
    assert tops == {"config", "blog"}
    for needed in (
        "config/settings.py",
        "blog/migrations/0001_initial.py",
        "blog/management/commands/load_demo.py",
        "blog/templatetags/dateline.py",
        "blog/demo/03-how-election-observers-work.md",
    ):
        assert needed in names, needed


def test_the_wheel_declares_its_pinned_dependencies_and_test_extra(wheel):
    """The metadata carries the pinned run dependencies and the `test` extra."""
    (metadata_name,) = [n for n in wheel.namelist() if n.endswith("dist-info/METADATA")]
    metadata = email.message_from_bytes(wheel.read(metadata_name))
    assert metadata["Name"] == "dateline"
    assert "test" in metadata.get_all("Provides-Extra")
    requires = metadata.get_all("Requires-Dist")
    assert any(r.startswith("Django==5.2") for r in requires)
    assert any(r.startswith("pytest==") and 'extra == "test"' in r for r in requires)
