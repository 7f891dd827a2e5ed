"""Where the checkout's code folders are imported from (mian's links to pipeline/, components/ and
serving/), for the tests."""

import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parent.parent
# The folders of the project's code; pipeline/, components/ and serving/ are subpackages of mian through
# the links mian/pipeline -> ../pipeline and the like.
CODE_FOLDERS = ("mian", "mian_keras", "pipeline", "components", "serving")
PACKAGE_DIRS = {
    f"mian.{link.name}": os.path.basename(os.readlink(link))
    for link in sorted((REPO / "mian").iterdir())
    if link.is_symlink()
}


def installed_parts(path: pathlib.Path) -> list[str]:
    """The path's parts once installed (pipeline/module_file.py: mian, pipeline, module_file.py)."""
    parts = list(path.relative_to(REPO).parts)
    folders = {folder: package for package, folder in PACKAGE_DIRS.items()}
    if parts[0] in folders:
        parts[0:1] = folders[parts[0]].split(".")
    return parts
