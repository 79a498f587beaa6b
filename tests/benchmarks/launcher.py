"""Run one command and write its own rusage as JSON: `python launcher.py RESULT_FILE CMD...`.

A child forked from a big process inherits that process's peak RSS in `ru_maxrss` (Linux keeps
the pre-exec high-water mark, and vfork/posix_spawn share the parent's memory until exec). The
benchmark process holds emulators of hundreds of MB, so it starts each measured command through
this small launcher: the command's `ru_maxrss` then starts from a few MB, not from the emulator.
"""

import json
import os
import sys
import time


def main() -> int:
    """Spawn the command with inherited stdio, reap it with wait4 and record what it cost."""
    result, cmd = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    with open(result, "w", encoding="utf-8") as f:
        json.dump(
            {
                "wall": wall,
                "user": usage.ru_utime,
                "system": usage.ru_stime,
                "max_rss_kib": usage.ru_maxrss,
                "returncode": code,
            },
            f,
        )
    return code if code >= 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
