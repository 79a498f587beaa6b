"""The reference: a bare `requests` + `json` pager over the cursor ticket export.

Run as a script (no package imports, so its start-up is only Python, requests and json):
`python tests/benchmarks/bare_pager.py URL [START_TIME]`. Writes one Singer-style RECORD line
per ticket to stdout, as the tap does, and the row count to stderr. Decodes with the standard
library's `json` (`response.json()` would use simplejson when installed, which is slower).
"""

import json
import sys

import requests


def main() -> int:
    """Page `/incremental/tickets/cursor.json` 1000 rows at a time until `end_of_stream`."""
    base = sys.argv[1]
    start_time = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    session = requests.Session()
    session.auth = ("demo@example.com/token", "demo")
    url = f"{base}/api/v2/incremental/tickets/cursor.json"
    params: dict = {"start_time": start_time, "per_page": 1000}
    write = sys.stdout.write
    rows = 0
    while True:
        response = session.get(url, params=params, timeout=30)
        response.raise_for_status()
        body = json.loads(response.content)
        for row in body["tickets"]:
            write(json.dumps({"type": "RECORD", "stream": "tickets", "record": row}))
            write("\n")
            rows += 1
        if body["end_of_stream"]:
            break
        params = {"cursor": body["after_cursor"], "per_page": 1000}
    sys.stdout.flush()
    print(rows, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
