"""Build the deployable zip of the function app: the app files (.funcignore honoured) plus Linux wheels.

Usage:
    python scripts/package.py                          # writes dist/forecastops.zip
    python scripts/package.py --output out/app.zip
    python scripts/package.py --without azure-ai-ml   # the same app without a dependency (size comparison)

The dependencies of requirements.txt are installed for the Functions runtime (Linux x86_64,
CPython 3.11, binary wheels only) into .python_packages/lib/site-packages, where the Python worker
looks for them, so the app needs no build on the server (SCM_DO_BUILD_DURING_DEPLOYMENT=false).
pip's cache is used as usual (set PIP_CACHE_DIR to move it; the pipeline caches that folder).
Must run on CPython 3.11 because the files are byte-compiled for the runtime's interpreter.
"""

from __future__ import annotations

import argparse
import compileall
import fnmatch
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE_PACKAGES = PurePosixPath(".python_packages/lib/site-packages")
RUNTIME_PYTHON = (3, 11)
# manylinux_2_28 covers the glibc of the Functions Python 3.11 images; pip also accepts every
# older manylinux tag (manylinux2014 and before) from this one.
PLATFORM = "manylinux_2_28_x86_64"

log = logging.getLogger("package")


@dataclass(frozen=True)
class IgnoreRule:
    """One .funcignore line, read with .gitignore rules (the format Core Tools uses)."""

    pattern: str
    negated: bool
    directory_only: bool
    anchored: bool

    @classmethod
    def parse(cls, line: str) -> IgnoreRule | None:
        text = line.rstrip("\n").rstrip()
        if not text or text.startswith("#"):
            return None
        negated = text.startswith("!")
        if negated:
            text = text[1:]
        directory_only = text.endswith("/")
        text = text.rstrip("/")
        anchored = "/" in text
        return cls(text.lstrip("/"), negated, directory_only, anchored)

    def matches(self, path: PurePosixPath, is_dir: bool) -> bool:
        if self.directory_only and not is_dir:
            return False
        if self.anchored:
            return fnmatch.fnmatchcase(str(path), self.pattern)
        return fnmatch.fnmatchcase(path.name, self.pattern)


class FuncIgnore:
    """The rules of a .funcignore file; the last matching rule decides, as in .gitignore."""

    def __init__(self, rules: Iterable[IgnoreRule]) -> None:
        self.rules = list(rules)

    @classmethod
    def from_text(cls, text: str) -> FuncIgnore:
        return cls(rule for line in text.splitlines() if (rule := IgnoreRule.parse(line)) is not None)

    @classmethod
    def from_file(cls, path: Path) -> FuncIgnore:
        return cls.from_text(path.read_text(encoding="utf-8")) if path.exists() else cls([])

    def ignored(self, path: PurePosixPath, is_dir: bool) -> bool:
        decision = False
        for rule in self.rules:
            if rule.matches(path, is_dir):
                decision = not rule.negated
        return decision


def _always_skipped(path: Path) -> bool:
    """Never packaged whatever .funcignore says: byte code (rebuilt), virtualenvs, the rebuilt site-packages."""
    if path.is_dir():
        return path.name == "__pycache__" or (path / "pyvenv.cfg").exists() or path.name == ".python_packages"
    return path.suffix in {".pyc", ".pyo"}


def app_files(source: Path, ignore: FuncIgnore) -> Iterator[PurePosixPath]:
    """Relative paths of the files that belong in the package, in a stable order.

    A directory that is ignored is not entered, so a negation cannot re-include a file below it
    (the .gitignore rule).
    """

    def walk(directory: Path) -> Iterator[PurePosixPath]:
        for entry in sorted(directory.iterdir(), key=lambda p: p.name):
            relative = PurePosixPath(entry.relative_to(source).as_posix())
            is_dir = entry.is_dir() and not entry.is_symlink()
            if _always_skipped(entry) or ignore.ignored(relative, is_dir):
                continue
            if is_dir:
                yield from walk(entry)
            elif entry.is_file():
                yield relative

    yield from walk(source)


def pip_install_command(requirements: Path, target: Path, compile_bytecode: bool = True) -> list[str]:
    """pip installing the wheels for the Functions runtime rather than for the build machine."""
    version = ".".join(map(str, RUNTIME_PYTHON))
    return [
        sys.executable, "-m", "pip", "install",
        "--disable-pip-version-check", "--no-input", "--quiet",
        "--target", str(target),
        "--platform", PLATFORM,
        "--implementation", "cp",
        "--python-version", version,
        "--only-binary=:all:",
        "--requirement", str(requirements),
        "--compile" if compile_bytecode else "--no-compile",
    ]  # fmt: skip


def requirement_name(line: str) -> str | None:
    """The normalized package name of a requirements line (None for comments, blanks and options)."""
    text = line.split("#", 1)[0].strip()
    if not text or text.startswith("-"):
        return None
    return re.split(r"[<>=!~\[; ]", text, maxsplit=1)[0].strip().lower().replace("_", "-")


def requirements_without(text: str, names: Iterable[str]) -> str:
    """The requirements text without the lines of `names`; each name must be one of its requirements."""
    drop = {name.lower().replace("_", "-") for name in names}
    present = {requirement_name(line) for line in text.splitlines()}
    missing = sorted(drop - present)
    if missing:
        raise RuntimeError(f"not in the requirements, cannot leave out: {', '.join(missing)}")
    return "".join(line for line in text.splitlines(keepends=True) if requirement_name(line) not in drop)


def write_zip(root: Path, output: Path, compresslevel: int) -> int:
    """Zip every file under `root` (paths relative to it, sorted); return the number of files."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    partial.replace(output)
    return len(files)


def build(
    source: Path,
    output: Path,
    requirements: Path,
    compresslevel: int = 6,
    compile_bytecode: bool = True,
    without: tuple[str, ...] = (),
) -> Path:
    """Build the deployable zip of the app in `source` at `output`.

    `compile_bytecode=False` skips byte-compiling (about half the build time): for checks of the
    package's contents, not for deployment. `without` leaves those packages (and what only they
    need) out of the wheels: to measure what a dependency costs, not for deployment.
    """
    if sys.version_info[:2] != RUNTIME_PYTHON:
        raise RuntimeError(
            f"run with Python {'.'.join(map(str, RUNTIME_PYTHON))} (the Functions runtime version); "
            f"this is {sys.version.split()[0]}"
        )
    source = source.resolve()
    output = output.resolve()
    if not (source / "function_app.py").exists():
        raise FileNotFoundError(f"{source} has no function_app.py: not the app folder")
    if not requirements.exists():
        raise FileNotFoundError(f"{requirements} not found")
    ignore = FuncIgnore.from_file(source / ".funcignore")
    with tempfile.TemporaryDirectory(prefix="forecastops-package-") as tmp:
        stage = Path(tmp) / "app"
        copied = 0
        for relative in app_files(source, ignore):
            if (source / relative).resolve() == output:
                continue
            destination = stage / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / relative, destination)
            copied += 1
        log.info("copied %d app files from %s", copied, source)
        started = time.monotonic()
        site_packages = stage / SITE_PACKAGES
        if without:
            reduced = Path(tmp) / "requirements-without.txt"
            reduced.write_text(requirements_without(requirements.read_text(encoding="utf-8"), without))
            requirements = reduced
        subprocess.run(pip_install_command(requirements, site_packages, compile_bytecode), check=True)
        log.info("installed %s for %s in %.1fs", requirements.name, PLATFORM, time.monotonic() - started)
        # The app folder is read-only when run from the package: ship its byte code compiled.
        app_dirs = [p for p in stage.iterdir() if p.is_dir() and p.name != ".python_packages"]
        for path in [stage, *app_dirs] if compile_bytecode else []:
            if not compileall.compile_dir(path, quiet=1, maxlevels=0 if path == stage else None):
                raise RuntimeError(f"byte-compiling {path} failed")
        started = time.monotonic()
        count = write_zip(stage, output, compresslevel)
    log.info(
        "wrote %s: %d files, %.1f MB in %.1fs", output, count, output.stat().st_size / 1e6, time.monotonic() - started
    )
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="package.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=REPO_ROOT, help="app folder (default: the repository)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "dist" / "forecastops.zip")
    parser.add_argument("--requirements", type=Path, help="default: requirements.txt of the app folder")
    parser.add_argument(
        "--compresslevel", type=int, default=6, choices=range(10), help="zip deflate level 0-9 (default: %(default)s)"
    )
    parser.add_argument(
        "--no-compile", dest="compile_bytecode", action="store_false", help="skip byte-compiling (checks only)"
    )
    parser.add_argument(
        "--without", action="append", default=[], metavar="PACKAGE", help="leave a requirement out (size checks only)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    requirements = args.requirements or args.source / "requirements.txt"
    try:
        build(args.source, args.output, requirements, args.compresslevel, args.compile_bytecode, tuple(args.without))
    except (RuntimeError, FileNotFoundError, subprocess.CalledProcessError) as exc:
        log.error("package failed: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
