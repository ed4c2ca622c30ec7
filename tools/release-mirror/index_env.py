#!/usr/bin/env python3
"""Shell `export` lines for the tests that run a real Grafana or Loki, from the mirror's index.

    eval "$(index_env.py)"

Reads $ILP_CACHE_DIR/mirror/index.json (written by build.py) and, for each program the mirror
holds an archive of, prints `export VARIABLE=<absolute path of the archive>` unless VARIABLE is
set already (a user's own archive wins):

    grafana                  ILP_GRAFANA_ARCHIVE    (tests/roles/test_grafana_role.py, the stack scenario)
    loki                     ILP_LOKI_ARCHIVE       (tests/roles/test_loki_config.py)
    victorialogs-datasource  ILP_GRAFANA_VL_PLUGIN  (the stack scenario's Grafana)

Prints nothing when the index is missing or holds none of them (the default: the mirror never
builds Grafana or Loki, see docs/release-mirror.md).
"""
from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

VARIABLES = {"grafana": "ILP_GRAFANA_ARCHIVE", "loki": "ILP_LOKI_ARCHIVE",
             "victorialogs-datasource": "ILP_GRAFANA_VL_PLUGIN"}


def exports(index_path: Path, environ: dict) -> list[str]:
    """The export lines for index_path, leaving alone the variables set in environ."""
    if not index_path.exists():
        return []
    index = json.loads(index_path.read_text())
    lines = []
    for program, variable in VARIABLES.items():
        entry = (index.get("programs") or {}).get(program)
        if not entry or environ.get(variable):
            continue
        archive = index_path.parent / entry["archive"]
        if archive.is_file():
            lines.append(f"export {variable}={shlex.quote(str(archive))}")
    return lines


def main() -> int:
    cache = Path(os.environ.get("ILP_CACHE_DIR") or Path.home() / ".cache" / "ilp-observability")
    for line in exports(cache / "mirror" / "index.json", dict(os.environ)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
