"""scripts/package.py: .funcignore rules, and the built zip holds the app and its wheels and nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from scripts.package import SITE_PACKAGES, FuncIgnore, app_files, build, requirement_name, requirements_without
from tests.infra.conftest import INFRA, REPO_ROOT, once_per_run, parse_bicep

# What the Functions host needs at the root of the package; anything else is a leak of dev files.
ALLOWED_TOP_LEVEL = {"function_app.py", "host.json", "requirements.txt", ".funcignore", "functions", "shared"}
ALLOWED_TOP_LEVEL |= {"__pycache__", ".python_packages"}
REQUIRED_FUNCTIONS = {"ingest", "retrain", "forecast", "models", "health"}

# Runs with `python -I -S` in the unpacked folder: no site-packages, no PYTHONPATH, only the package.
_IMPORT_APP = """
import json, os, sys
root = os.getcwd()
sys.path[:0] = [root, os.path.join(root, ".python_packages", "lib", "site-packages")]
import azure.functions as func
import function_app
registers = [v for v in vars(function_app).values() if isinstance(v, func.FunctionRegister)]
functions = {}
for fn in registers[0].get_functions():
    trigger = fn.get_trigger()
    functions[fn.get_function_name()] = {"type": trigger.get_binding_name(), **trigger.get_dict_repr()}
modules = {name: getattr(sys.modules[name], "__file__", None) for name in ("function_app", "azure.functions")}
json.dump({"registers": len(registers), "functions": functions, "modules": modules, "path": sys.path},
          sys.stdout, default=str)
"""


def test_funcignore_rules_follow_gitignore():
    ignore = FuncIgnore.from_text("# comment\n\ntests\n/docs/\n*.log\n!keep.log\nbuild/\n")
    assert ignore.ignored(PurePosixPath("tests"), is_dir=True)
    assert ignore.ignored(PurePosixPath("shared/tests"), is_dir=True)  # unanchored: any depth
    assert ignore.ignored(PurePosixPath("docs"), is_dir=True)
    assert not ignore.ignored(PurePosixPath("docs"), is_dir=False)  # trailing slash: directories only
    assert ignore.ignored(PurePosixPath("shared/run.log"), is_dir=False)
    assert not ignore.ignored(PurePosixPath("keep.log"), is_dir=False)  # last matching rule wins
    assert not ignore.ignored(PurePosixPath("shared/api.py"), is_dir=False)
    assert not ignore.ignored(PurePosixPath("build"), is_dir=False)


def test_app_files_honour_funcignore_and_skip_byte_code_and_virtualenvs(tmp_path):
    for relative in (
        "function_app.py", "host.json", "shared/api.py", "shared/__pycache__/api.cpython-311.pyc",
        "tests/test_x.py", "infra/main.bicep", "tools-env/pyvenv.cfg", "tools-env/lib/x.py",
        ".python_packages/lib/site-packages/old.py", "notes.md",
    ):  # fmt: skip
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    files = {str(p) for p in app_files(tmp_path, FuncIgnore.from_text("tests\ninfra\n*.md\n"))}
    assert files == {"function_app.py", "host.json", "shared/api.py"}


def test_the_repository_funcignore_keeps_dev_files_out():
    files = {str(p) for p in app_files(REPO_ROOT, FuncIgnore.from_file(REPO_ROOT / ".funcignore"))}
    assert {"function_app.py", "host.json"} <= files
    top_level = {p.split("/", 1)[0] for p in files}
    assert top_level <= ALLOWED_TOP_LEVEL, f"not for the package: {sorted(top_level - ALLOWED_TOP_LEVEL)}"


def test_requirements_without_leaves_out_the_named_packages_only():
    text = "# runtime\nazure-ai-ml==1.35.2\nAzure_Functions==1.26.0  # host\n-r other.txt\npandas==3.1.1\n"
    assert (
        requirements_without(text, ["azure-ai-ml"])
        == "# runtime\nAzure_Functions==1.26.0  # host\n-r other.txt\npandas==3.1.1\n"
    )
    assert "Azure_Functions" not in requirements_without(text, ["azure_functions"])
    with pytest.raises(RuntimeError, match="cannot leave out: numpy"):
        requirements_without(text, ["numpy"])


@pytest.fixture(scope="session")
def package(tmp_path_factory) -> Path:
    """The zip built from this repository, once per test run (one pip install for every worker).

    Built without byte code and with light compression, which halves the build; the files are the same.
    """

    def produce(path: Path) -> None:
        build(REPO_ROOT, path, REPO_ROOT / "requirements.txt", compresslevel=1, compile_bytecode=False)

    return once_per_run(tmp_path_factory, "forecastops.zip", produce)


@pytest.fixture(scope="session")
def unpacked(package, tmp_path_factory) -> Path:
    """The zip unpacked into a folder of its own, as the host mounts it."""

    def produce(path: Path) -> None:
        partial = path.with_name(path.name + ".partial")
        with zipfile.ZipFile(package) as archive:
            archive.extractall(partial)
        partial.replace(path)

    return once_per_run(tmp_path_factory, "wwwroot", produce)


@pytest.fixture(scope="session")
def imported(unpacked) -> dict:
    """What `import function_app` finds with only the unpacked folder and its .python_packages on the path."""
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _IMPORT_APP], cwd=unpacked, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


def _requirement_names() -> set[str]:
    lines = (REPO_ROOT / "requirements.txt").read_text().splitlines()
    return {name.replace("-", "_") for line in lines if (name := requirement_name(line))}


@pytest.mark.slow
def test_zip_holds_the_app_and_its_dependencies_only(package):
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
    assert {"function_app.py", "host.json"} <= set(names)
    assert any(n.startswith("functions/") and n.endswith(".py") for n in names)
    assert any(n.startswith("shared/") and n.endswith(".py") for n in names)
    top_level = {n.split("/", 1)[0] for n in names}
    assert top_level <= ALLOWED_TOP_LEVEL, f"not for the package: {sorted(top_level - ALLOWED_TOP_LEVEL)}"
    for folder in ("tests/", "infra/", "scripts/", "localrun/", "docs/", "node_modules/", ".venv"):
        assert not any(f"/{folder}" in f"/{n}" and not n.startswith(str(SITE_PACKAGES)) for n in names), folder
    installed = {
        n.split("/")[3].split("-")[0].lower()
        for n in names
        if n.startswith(f"{SITE_PACKAGES}/") and n.split("/")[3].endswith(".dist-info")
    }
    assert _requirement_names() <= installed
    wheels = [n for n in names if n.endswith("/WHEEL") and n.startswith(f"{SITE_PACKAGES}/numpy-")]
    with zipfile.ZipFile(package) as archive:
        wheel_tags = archive.read(wheels[0]).decode()
    assert "cp311-cp311-manylinux" in wheel_tags


@pytest.mark.slow
def test_unpacked_app_imports_from_the_package_alone(imported, unpacked):
    assert imported["registers"] == 1
    assert Path(imported["modules"]["function_app"]).parent == unpacked
    assert Path(imported["modules"]["azure.functions"]).is_relative_to(unpacked / SITE_PACKAGES)
    outside = [p for p in imported["path"] if not p.startswith(str(unpacked)) and "site-packages" in p]
    assert outside == []


@pytest.mark.slow
def test_every_function_of_the_source_is_found_in_the_package(imported):
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORT_APP], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    source = json.loads(completed.stdout)["functions"]
    packaged = imported["functions"]
    assert packaged == source
    assert set(packaged) >= REQUIRED_FUNCTIONS


@pytest.mark.slow
def test_staging_disables_every_non_http_function_and_ingest_listens_to_event_grid(imported):
    triggers = parse_bicep([INFRA / "app" / "function.bicep"])[INFRA / "app" / "function.bicep"]
    disabled_in_staging = set(triggers["parameters"]["triggerFunctions"]["default"])
    functions = imported["functions"]
    background = {name for name, fn in functions.items() if fn["type"] != "httpTrigger"}
    assert background <= disabled_in_staging, f"not disabled in staging: {sorted(background - disabled_in_staging)}"
    assert functions["ingest"]["type"] == "blobTrigger"
    assert functions["ingest"]["source"] == "EventGrid"
