"""Where the checkout's code folders go once installed (pyproject.toml's package-dir), for the tests."""

import pathlib
import tomllib

REPO = pathlib.Path(__file__).resolve().parent.parent
# The folders of the project's code; pipeline/, components/ and serving/ install as subpackages of mian.
CODE_FOLDERS = ("mian", "mian_keras", "pipeline", "components", "serving")
PACKAGE_DIRS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]


def installed_parts(path: pathlib.Path) -> list[str]:
    """The path's parts once installed (pipeline/module_file.py: mian, pipeline, module_file.py)."""
    parts = list(path.relative_to(REPO).parts)
    folders = {folder: package for package, folder in PACKAGE_DIRS.items()}
    if parts[0] in folders:
        parts[0:1] = folders[parts[0]].split(".")
    return parts
