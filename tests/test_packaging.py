"""The wheel: two top-level packages, the configs and schemas inside, and an install that runs anywhere."""

import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from tests.layout_helpers import CODE_FOLDERS, PACKAGE_DIRS, REPO, installed_parts

SOURCES = ("pyproject.toml", "README.md", *CODE_FOLDERS, "configs", "schema")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    # Built from a copy, so that the build's own folders (build/, *.egg-info) stay out of the checkout.
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(out),
        str(source),
    ]
    subprocess.run(command, check=True, capture_output=True)
    (built,) = out.glob("mian-*.whl")
    return built


def test_the_wheel_holds_only_the_projects_two_packages_with_configs_and_schemas(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"mian", "mian_keras", "mian-0.1.0.dist-info"}
    assert {"mian/shipped_configs/pipeline.yaml", "mian/shipped_configs/synthetic.yaml"} <= set(names)
    assert {
        "mian/shipped_schemas/synthetic/schema.pbtxt",
        "mian/shipped_schemas/movielens-100k/schema.pbtxt",
    } <= set(names)
    # Every module of the checkout is in it, under the name it imports by: a package missing from
    # pyproject.toml's list would be left out silently.
    checkout = {
        "/".join(installed_parts(path))
        for folder in CODE_FOLDERS
        for path in (REPO / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert checkout - set(names) == set()


def test_no_module_imports_a_folder_by_its_checkout_name():
    # `import pipeline` works in the checkout and nowhere else: installed, it is mian.pipeline.
    offenders = []
    for folder in (*CODE_FOLDERS, "tests", "bench"):
        for path in (REPO / folder).rglob("*.py"):
            for line in path.read_text().splitlines():
                words = line.split()
                if (
                    len(words) > 1
                    and words[0] in ("import", "from")
                    and words[1].split(".")[0] in PACKAGE_DIRS.values()
                ):
                    offenders.append(f"{path.relative_to(REPO)}: {line.strip()}")
    assert offenders == []


@pytest.mark.e2e
def test_a_non_editable_install_builds_the_pipeline_from_any_directory(wheel, tmp_path):
    # A fresh venv with only the wheel installed; its dependencies are borrowed from this environment
    # (a path entry to its site-packages), since the registries are not to be hit by a test.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    pathlib.Path(site_packages, "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "PYTHONPATH": ""}
    probe = (
        "import mian, os\n"
        "from mian.config.pipeline_config import PipelineConfig, default_config_path\n"
        "from mian.pipeline.local_runner import local_pipeline\n"
        "from mian.data.synthetic import generate_if_requested\n"
        "config = PipelineConfig.load(default_config_path())\n"
        "config = config.replace(synthetic_data=dict(users=30, items=20, days=3, seed=0))\n"
        "generate_if_requested(config)\n"
        "pipeline = local_pipeline(config)\n"
        "print(mian.__file__)\n"
        "print(config.schema_path())\n"
        "print(len(pipeline.components))\n"
    )
    result = subprocess.run(
        [python, "-c", probe], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    module_file, schema, components = result.stdout.split()[-3:]
    assert module_file.startswith(site_packages)
    assert schema.startswith(site_packages) and os.path.isfile(schema)
    assert int(components) >= 8

    command = subprocess.run(
        [venv / "bin" / "mian", "run", "--help"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert command.returncode == 0 and "usage: mian run" in command.stdout
