"""`python -m tests.readme`: regenerate README.md's settings tables from `--about --format=markdown`.

The tables sit between `<!-- BEGIN <command> settings -->` and `<!-- END <command> settings -->`
markers; tests/shared/test_readme.py fails when they drift from the plugins' own declarations.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
COMMANDS = ("tap-zendesk", "target-zendesk")


def settings_table(command: str) -> str:
    """The settings table the plugin prints about itself."""
    exe = Path(sys.executable).parent / command
    about = subprocess.run(
        [str(exe), "--about", "--format=markdown"], check=True, capture_output=True, text=True
    ).stdout
    lines = about.splitlines()
    start = lines.index("## Settings") + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("A full list of supported"))
    return "\n".join(lines[start:end]).strip()


def render(text: str) -> str:
    """README text with every marked table replaced by the current one."""
    for command in COMMANDS:
        pattern = re.compile(
            rf"(<!-- BEGIN {command} settings -->\n).*?(<!-- END {command} settings -->)", re.S
        )
        text = pattern.sub(
            lambda m, c=command: m.group(1) + settings_table(c) + "\n" + m.group(2), text
        )
    return text


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
    print(f"updated {README}")
