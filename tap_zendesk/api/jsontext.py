"""JSON decoding that survives lone UTF-16 surrogates (broken emoji) instead of failing a run.

msgspec, which decodes every reply and every line of the target's input, refuses a string
escape such as `"\\ud83d"` that is half of a surrogate pair, and it cannot encode such a
character either. Text truncated in the middle of an emoji can carry one. Failing on it would
stop a sync forever on one ticket, so the rare body msgspec refuses is decoded again with the
standard library, which accepts it, and each lone surrogate becomes U+FFFD (the replacement
character), once per value, with a warning. Anything that is not JSON still fails.
"""

from __future__ import annotations

import json
import logging
import re
import typing as t

import msgspec

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_decoder = msgspec.json.Decoder()
logger = logging.getLogger("tap_zendesk.api")


def decode(data: bytes | str) -> t.Any:
    """msgspec's decode; on a body it refuses, the standard library's with surrogates repaired.

    Raises ValueError (msgspec's DecodeError is one) when the text is not JSON at all.
    """
    try:
        return _decoder.decode(data)
    except msgspec.DecodeError:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        if "\\u" not in text:
            raise
        value = json.loads(text)  # a ValueError of its own when it is not JSON either
    repaired = [0]
    value = _repair(value, repaired)
    if repaired[0]:
        logger.warning(
            "Replaced %d broken character(s) (lone UTF-16 surrogates, e.g. half an emoji) with "
            "U+FFFD in a JSON document; everything else was kept.",
            repaired[0],
        )
    return value


def _repair(value: t.Any, count: list[int]) -> t.Any:
    """Replace lone surrogates in every string (keys included) of a decoded document."""
    if isinstance(value, str):
        fixed, n = _LONE_SURROGATE.subn("\ufffd", value)
        count[0] += n
        return fixed
    if isinstance(value, list):
        return [_repair(v, count) for v in value]
    if isinstance(value, dict):
        return {_repair(k, count): _repair(v, count) for k, v in value.items()}
    return value
