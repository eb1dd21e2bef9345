"""Shared by the web-app peers of the Go interop tests (flask_peer.py,
starlette_peer.py): the request loop and a clock that can be pinned.

Importing it makes itsdangerous's TimestampSigner sign with the pinned time
while one is set (the real clock otherwise), so that a test can ask a peer
for a cookie issued at a given UNIX time.
"""
import json
import sys

import itsdangerous

_pinned_now = None
_real_get_timestamp = itsdangerous.TimestampSigner.get_timestamp


def _get_timestamp(self):
    if _pinned_now is not None:
        return _pinned_now
    return _real_get_timestamp(self)


itsdangerous.TimestampSigner.get_timestamp = _get_timestamp


def serve(handle):
    """Reads a JSON list of requests from stdin, answers each with
    handle(request) while the clock is pinned to its "now" (the real clock
    when that is missing or null), and writes the JSON list of answers to
    stdout."""
    global _pinned_now
    out = []
    for req in json.load(sys.stdin):
        _pinned_now = req.get("now")
        out.append(handle(req))
    json.dump(out, sys.stdout)
