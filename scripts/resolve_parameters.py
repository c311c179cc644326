"""Resolve infra/main.parameters.json the way azd does, for deployments with the plain Azure CLI.

Usage:
    python scripts/resolve_parameters.py --output /tmp/main.parameters.json

Each "${NAME}" or "${NAME=default}" in a parameter value is replaced by the environment variable
NAME (or the default; a variable without a value and without a default is an error). The result is
then converted to the type that infra/main.bicep declares for the parameter (bool, int, array,
object), so one parameters file serves `azd provision` and `az deployment sub create` alike.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:=(?P<default>[^}]*))?\}")
PARAM_DECLARATION = re.compile(r"^param\s+(?P<name>\w+)\s+(?P<type>\w+)", re.MULTILINE)


class ParameterError(ValueError):
    """A parameter cannot be resolved; the message names it and the variable."""


def declared_types(bicep_text: str) -> dict[str, str]:
    """Parameter name -> declared type of a Bicep file's `param` lines."""
    return {m["name"]: m["type"] for m in PARAM_DECLARATION.finditer(bicep_text)}


def substitute(text: str, env: Mapping[str, str], parameter: str) -> str:
    """Replace every ${NAME} / ${NAME=default} in `text` from `env`."""

    def value(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        if env.get(name):
            return env[name]
        if default is not None:
            return default
        raise ParameterError(f"parameter {parameter!r} needs the environment variable {name} (no default)")

    return PLACEHOLDER.sub(value, text)


def convert(value: str, bicep_type: str, parameter: str) -> Any:
    """The resolved string as the JSON value of the Bicep type."""
    if bicep_type == "string":
        return value
    if bicep_type == "bool":
        lowered = value.strip().lower()
        if lowered not in {"true", "false"}:
            raise ParameterError(f"parameter {parameter!r} is a bool: expected true or false, got {value!r}")
        return lowered == "true"
    if bicep_type == "int":
        try:
            return int(value)
        except ValueError as exc:
            raise ParameterError(f"parameter {parameter!r} is an int, got {value!r}") from exc
    if bicep_type in {"array", "object"}:
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise ParameterError(f"parameter {parameter!r} is an {bicep_type}: {value!r} is not JSON") from exc
        if not isinstance(parsed, list if bicep_type == "array" else dict):
            raise ParameterError(f"parameter {parameter!r} is an {bicep_type}, got {value!r}")
        return parsed
    raise ParameterError(f"parameter {parameter!r} has a type this resolver does not know: {bicep_type}")


def resolve(parameters: dict, bicep_text: str, env: Mapping[str, str]) -> dict:
    """A copy of an ARM parameters document with placeholders resolved and values typed."""
    types = declared_types(bicep_text)
    resolved = json.loads(json.dumps(parameters))
    for name, entry in resolved["parameters"].items():
        if name not in types:
            raise ParameterError(f"parameter {name!r} is not declared in the Bicep file")
        value = entry.get("value")
        if isinstance(value, str) and PLACEHOLDER.search(value):
            entry["value"] = convert(substitute(value, env, name), types[name], name)
    return resolved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="resolve_parameters.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--parameters", type=Path, default=REPO_ROOT / "infra" / "main.parameters.json")
    parser.add_argument("--template", type=Path, default=REPO_ROOT / "infra" / "main.bicep")
    parser.add_argument("--output", type=Path, required=True, help="where to write the resolved parameters")
    args = parser.parse_args(argv)
    try:
        document = resolve(
            json.loads(args.parameters.read_text(encoding="utf-8")),
            args.template.read_text(encoding="utf-8"),
            os.environ,
        )
    except ParameterError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {args.output} ({', '.join(sorted(document['parameters']))})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
