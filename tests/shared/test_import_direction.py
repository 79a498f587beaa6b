"""Imports stay one-way: tap_zendesk.api imports neither the tap's streams nor the target, and
target_zendesk imports only tap_zendesk.api from the tap package."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_connection_layer_imports_neither_tap_streams_nor_target():
    """tap_zendesk/api is the shared bottom layer: it must not reach up."""
    bad = {
        path: sorted(n for n in names if n.startswith("target_zendesk")
                     or (n.startswith("tap_zendesk") and not n.startswith("tap_zendesk.api")))
        for path, names in _imports(ROOT / "tap_zendesk" / "api").items()
    }
    assert not {p: n for p, n in bad.items() if n}, bad


def test_target_imports_only_the_connection_layer_from_the_tap():
    """target_zendesk may use tap_zendesk.api, nothing else of the tap."""
    bad = {
        path: sorted(n for n in names if n.startswith("tap_zendesk")
                     and not n.startswith("tap_zendesk.api"))
        for path, names in _imports(ROOT / "target_zendesk").items()
    }
    assert not {p: n for p, n in bad.items() if n}, bad
