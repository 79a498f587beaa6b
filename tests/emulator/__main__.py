"""`python -m tests.emulator --port 0 --tickets 2000 --seed 7`: serve until SIGTERM/SIGINT."""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading

from .config import config_from_args
from .server import Emulator


def main(argv: list[str] | None = None) -> int:
    """Start one account, print its URL as the first stdout line and serve until signalled."""
    done = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        done.set()

    # Handlers first: a caller may signal as soon as it has read the URL.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    cfg = config_from_args(argv)
    emu = Emulator(**dataclasses.asdict(cfg))
    emu.start()
    print(emu.url, flush=True)
    while not done.wait(0.5):
        pass
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
