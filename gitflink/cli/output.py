"""How results reach stdout: `-o json` and `-o yaml` documents (block-style YAML, as kubectl
prints it) and aligned tables with upper-case headers."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML


def dump_yaml(document: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


def write_document(document: Any, output: str) -> None:
    """`document` (JSON-compatible) on stdout as `output` ("json" or "yaml")."""
    if output == "yaml":
        sys.stdout.write(dump_yaml(document))
    else:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")


def table(rows: Sequence[Mapping[str, str]], headers: Sequence[str]) -> str:
    widths = {h: max([len(h), *(len(r[h]) for r in rows)]) for h in headers}
    lines = ["  ".join(h.upper().ljust(widths[h]) for h in headers).rstrip()]
    lines += ["  ".join(r[h].ljust(widths[h]) for h in headers).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def error(command: str, message: object) -> None:
    print(f"gitflink {command}: {message}", file=sys.stderr)
