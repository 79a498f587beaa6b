"""Local Zendesk Support API emulator used by the tap and target tests (see server.py)."""

from .config import EmulatorConfig
from .server import Emulator

__all__ = ["Emulator", "EmulatorConfig"]
