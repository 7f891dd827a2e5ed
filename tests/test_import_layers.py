"""The project's layers, top to bottom, and that no module imports one above its own."""

import ast
import pathlib

from tests.layout_helpers import CODE_FOLDERS, REPO, installed_parts

# Top to bottom: a module may import its own layer and the layers below it, never one above.
LAYERS = (
    ("command", ("mian.cli",)),
    ("pipeline and serving", ("mian.pipeline", "mian.serving")),
    ("TFX components", ("mian.components",)),
    ("stage code and tools", ("mian.stages", "mian.tools")),
    ("data", ("mian.data",)),
    ("configs", ("mian.config",)),
    ("shared names", ("mian.names", "mian.numbered_dirs", "mian")),
    ("model library", ("mian_keras",)),
)


def layer_of(module: str) -> int | None:
    """The index of the module's layer (longest matching prefix), or None outside the project."""
    best = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (index, len(prefix))
    return None if best is None else best[0]


def module_name(path: pathlib.Path) -> str:
    """The name the file imports by once installed (pipeline/local_runner.py: mian.pipeline.local_runner)."""
    parts = installed_parts(path.with_suffix(""))
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: pathlib.Path) -> set[str]:
    """Every absolute import in the file, at any depth (imports inside functions count too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            # `from mian import names` imports the module mian.names.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def upward_imports() -> list[str]:
    found = []
    for package in CODE_FOLDERS:
        for path in sorted((REPO / package).rglob("*.py")):
            importer = module_name(path)
            own = layer_of(importer)
            for imported in sorted(imported_modules(path)):
                target = layer_of(imported)
                if target is not None and target < own:
                    where = path.relative_to(REPO)
                    found.append(f"{where} ({LAYERS[own][0]}) imports {imported} ({LAYERS[target][0]})")
    return found


def test_every_module_belongs_to_a_layer():
    for package in CODE_FOLDERS:
        for path in (REPO / package).rglob("*.py"):
            assert layer_of(module_name(path)) is not None, path


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    # The model library reaching up into the stage code must be reported.
    assert layer_of("mian.stages.trainer") < layer_of("mian_keras.models.mian")
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from mian.stages.trainer import train\n")
    assert "mian.stages.trainer" in imported_modules(source)
