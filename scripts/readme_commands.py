"""Print one of README.md's two set-up commands (``main`` or ``test``).

README marks each command's code block with an HTML comment (``<!-- command: main -->``) so
that CI and the tests run exactly what a newcomer copies.
"""

from __future__ import annotations

import pathlib
import re
import sys

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def command(name: str) -> str:
    text = README.read_text()
    m = re.search(r"<!-- command: " + re.escape(name) + r" -->\s*```(?:bash|sh)?\n(.*?)```",
                  text, re.S)
    if not m:
        raise SystemExit(f"README.md has no block marked <!-- command: {name} -->")
    lines = [ln.rstrip() for ln in m.group(1).splitlines() if ln.strip()]
    return " ".join(ln[:-1].rstrip() if ln.endswith("\\") else ln for ln in lines)


if __name__ == "__main__":
    print(command(sys.argv[1] if len(sys.argv) > 1 else "test"))
