"""README.md documents the settings each plugin really declares, and the two newcomer commands."""

from tests.readme import COMMANDS, README, render


def test_readme_settings_tables_match_the_plugins_about_output():
    """Run `python -m tests.readme` after changing a setting; this fails until the README is updated."""
    text = README.read_text()
    for command in COMMANDS:
        begin = text.index(f"<!-- BEGIN {command} settings -->")
        assert "| api_token |" in text[begin : text.index(f"<!-- END {command} settings -->")]
    assert render(text) == text, "README settings tables are stale: run `python -m tests.readme`"


def test_readme_tells_a_newcomer_to_run_make_demo_and_make_test_near_the_top():
    """The two commands a newcomer runs are in the first 30 lines."""
    head = "\n".join(README.read_text().splitlines()[:30])
    assert "make demo" in head and "make test" in head
