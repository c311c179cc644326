"""The layers of docs/architecture.md, enforced: no module imports from a layer above its own.

Every import counts, including the lazy ones inside functions. The layer of a module is the entry of LAYERS
with the longest matching prefix (`shared.forecasting` covers every module under shared/forecasting/), so a
new file falls into its package's layer; an entry ending in `$` names that one module (a package's
`__init__`) only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Bottom to top; a module may import from its own layer and the layers below it. Quoted in docs/architecture.md.
LAYERS: dict[str, tuple[str, ...]] = {
    "base": ("shared$", "shared.errors", "shared.series_id", "shared.jsonsafe", "shared.schemas"),
    "domain": (
        "shared.forecasting",
        "shared.monitoring",
        "shared.ingest.parse",
        "shared.ingest.rules",
        "shared.longformat",
        "shared.dashboard",
        "shared.openapi",
    ),
    "infrastructure": ("shared.settings", "shared.storage", "shared.monitoring.config"),
    "services": (
        "shared",
        "shared.ingest",
        "shared.monitoring.service",
        "shared.monitoring.store",
        "shared.monitoring.fanout",
        "shared.azureml",
    ),
    "adapters": ("function_app", "functions", "localrun", "shared.cli"),
}
PURE = ("base", "domain")  # never import azure.* (nor any other cloud SDK)
RANK = {layer: rank for rank, layer in enumerate(LAYERS)}
SOURCES = ("shared", "functions", "localrun", "function_app.py")


def layer_of(module: str) -> str | None:
    """The layer of a module by the longest matching entry of LAYERS; None outside the app's packages."""
    best, length = None, -1
    for layer, entries in LAYERS.items():
        for entry in entries:
            exact = entry.endswith("$")
            name = entry.rstrip("$")
            hit = module == name if exact else module == name or module.startswith(name + ".")
            # An exact entry is more specific than a prefix of the same length.
            size = len(name) + (1 if exact else 0)
            if hit and size > length:
                best, length = layer, size
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for source in SOURCES:
        path = ROOT / source
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            found[module_name(file)] = file
    return found


MODULES = modules()


def imports(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every import in the file; `from X import y` names X.y when that is a module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.append((node.lineno, target if target in MODULES else base))
    return found


def test_every_module_has_a_layer():
    assert [m for m in MODULES if layer_of(m) is None] == []


def test_the_map_places_modules_by_package():
    assert layer_of("shared.forecasting.families") == "domain"  # a new file takes its package's layer
    assert layer_of("shared.monitoring.checks") == "domain"
    assert layer_of("shared.monitoring.store") == "services"
    assert layer_of("shared") == "base" and layer_of("shared.training") == "services"
    assert layer_of("shared.ingest") == "services" and layer_of("shared.ingest.parse") == "domain"
    assert layer_of("localrun.runner") == "adapters" and layer_of("numpy") is None


def test_no_module_imports_from_a_layer_above_its_own():
    upward = []
    for module, path in MODULES.items():
        own = RANK[layer_of(module)]
        for line, target in imports(module, path):
            layer = layer_of(target)
            if layer is not None and RANK[layer] > own:
                upward.append(f"{path.relative_to(ROOT)}:{line} ({layer_of(module)}) imports {target} ({layer})")
    assert upward == []


@pytest.mark.parametrize("sdk", ["azure", "azureml"])
def test_the_pure_layers_never_import_a_cloud_sdk(sdk):
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for module, path in MODULES.items()
        if layer_of(module) in PURE
        for line, target in imports(module, path)
        if target == sdk or target.startswith(sdk + ".")
    ]
    assert found == []


def test_the_check_sees_an_upward_import(tmp_path):
    """The checker itself: a domain module importing storage, and a lazy one, are both found."""
    source = tmp_path / "probe.py"
    source.write_text("import json\n\ndef f():\n    from shared.storage import container\n    import azure.core\n")
    found = imports("shared.forecasting.probe", source)
    assert (4, "shared.storage") in found and (5, "azure.core") in found
    assert RANK[layer_of("shared.storage")] > RANK[layer_of("shared.forecasting.probe")]
