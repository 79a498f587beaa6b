"""The SDK's standard tap tests against a small local emulator started at import time."""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_zendesk.tap import TapZendesk
from tests.emulator import Emulator
from tests.tap.tapkit import FAST, catalog_for, tap_config

# The factory reads its config when this module is imported, so the emulator must already be
# listening (its port is part of the config). Small account, no hold-back, 1 s rate windows so
# the governor never paces by the nominal 10/min export header.
EMULATOR = Emulator(tickets=60, seed=11, **FAST).start()
atexit.register(EMULATOR.stop)  # idle until the session ends; xdist workers each start one
CONFIG = tap_config(EMULATOR)
# `side_conversations` and `ticket_events` are off by default (an add-on; a second read of the
# events export). The SDK's dry run forces every stream on, but only after the stream maps were
# built without those two's properties, so their records would not match the "transformed
# catalog". A catalog with them selected tests all streams the way a user who selects them runs.
CATALOG = catalog_for(CONFIG, also={"side_conversations", "ticket_events"})

TestTapZendesk = get_tap_test_class(
    TapZendesk,
    config=CONFIG,
    catalog=CATALOG,
    parse_env_config=False,
    # Every stream and attribute test on; the default suite config applies (150 records per
    # stream at most, and every stream must return records: the emulator has all of them).
    suite_config=SuiteConfig(),
)
