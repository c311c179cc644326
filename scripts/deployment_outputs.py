"""Read the outputs of an ARM deployment by name, whatever case ARM gave their names back in.

ARM does not always keep the case of output names (all-caps names have come back as `ioT_HUB_...`,
Azure/azure-dev#512, Azure/bicep#9360), so every lookup here ignores case.

Usage:
    python scripts/deployment_outputs.py OUTPUTS.json VARIABLE=OUTPUT_NAME ...   # Azure Pipelines output variables
    python scripts/deployment_outputs.py OUTPUTS.json --get OUTPUT_NAME           # one value on stdout

OUTPUTS.json is `az deployment ... --query properties.outputs` (or the whole deployment document).
Exit code 0 when every output was found, 1 otherwise (the message names the available outputs).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


class OutputError(ValueError):
    """An output is missing or ambiguous, or its value cannot be handed on."""


def read_outputs(document: Mapping[str, Any]) -> dict[str, Any]:
    """{lower-cased output name: value} of a deployment's outputs, from either document form."""
    properties = document.get("properties")
    outputs = properties["outputs"] if isinstance(properties, Mapping) and "outputs" in properties else document
    found: dict[str, tuple[str, Any]] = {}
    for name, entry in outputs.items():
        value = entry["value"] if isinstance(entry, Mapping) and "value" in entry else entry
        key = name.lower()
        if key in found and found[key][1] != value:
            raise OutputError(f"outputs {found[key][0]!r} and {name!r} differ only in case and have different values")
        found[key] = (name, value)
    return {key: value for key, (_, value) in found.items()}


def get_output(outputs: Mapping[str, Any], name: str) -> Any:
    """The value of output `name`, matched without case."""
    try:
        return outputs[name.lower()]
    except KeyError:
        raise OutputError(f"the deployment has no output {name!r} (outputs: {', '.join(sorted(outputs))})") from None


def as_text(value: Any) -> str:
    """An output value as one line of text: strings as they are, anything else as JSON."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if "\n" in text or "\r" in text:
        raise OutputError("an output value with a line break cannot be passed on as a pipeline variable")
    return text


def pipeline_variables(outputs: Mapping[str, Any], mapping: Iterable[tuple[str, str]]) -> list[str]:
    """`##vso[task.setvariable]` commands that publish each (variable, output) pair as an output variable."""
    return [
        f"##vso[task.setvariable variable={variable};isOutput=true]{as_text(get_output(outputs, output))}"
        for variable, output in mapping
    ]


def _pair(text: str) -> tuple[str, str]:
    variable, sep, output = text.partition("=")
    if not sep or not variable or not output:
        raise argparse.ArgumentTypeError(f"expected VARIABLE=OUTPUT_NAME, got {text!r}")
    return variable, output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deployment_outputs.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("outputs", type=Path, help="JSON file of the deployment outputs")
    parser.add_argument("pairs", nargs="*", type=_pair, metavar="VARIABLE=OUTPUT_NAME")
    parser.add_argument("--get", metavar="OUTPUT_NAME", help="print the value of one output")
    args = parser.parse_args(argv)
    if bool(args.pairs) == bool(args.get):
        parser.error("give either VARIABLE=OUTPUT_NAME pairs or --get OUTPUT_NAME")
    try:
        outputs = read_outputs(json.loads(args.outputs.read_text(encoding="utf-8")))
        lines = [as_text(get_output(outputs, args.get))] if args.get else pipeline_variables(outputs, args.pairs)
    except (OutputError, OSError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
