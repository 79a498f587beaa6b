"""`python -m tests.benchmarks [--tickets N] [--big] [--quick] [--out FILE]`."""

from __future__ import annotations

from tests.benchmarks.run import main

raise SystemExit(main())
