"""Tap-test collection tweaks: known failures of generated standard tests, marked strictly."""

from __future__ import annotations

import pytest

#: Generated SDK standard-test cases that fail for a reason outside the tap tests' files.
#: strict=True: once the cause is fixed the XPASS fails the run, so the mark gets removed.
KNOWN: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the known failures of test_tap_standard.py as strict xfails."""
    for item in items:
        if item.nodeid.startswith("tests/tap/test_tap_standard.py::"):
            reason = KNOWN.get(item.name)
            if reason:
                item.add_marker(pytest.mark.xfail(strict=True, reason=reason))
