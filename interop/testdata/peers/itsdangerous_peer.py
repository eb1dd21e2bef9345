"""Peer for the Go interop tests: the real itsdangerous, configured exactly as
ctxsession's default cookie format.

Usage (the clock is pinned with NOW, Unix seconds):
  itsdangerous_peer.py dumps KEY COOKIE_NAME NOW          < JSON object  -> cookie value
  itsdangerous_peer.py loads KEY COOKIE_NAME NOW MAX_AGE [OLDER_KEY...] < cookie -> JSON or "error: Class"

loads prints the payload as compact JSON with sorted keys, or
"error: <exception class>" when itsdangerous rejects the value.
"""
import hashlib
import json
import sys

import itsdangerous
from itsdangerous import URLSafeTimedSerializer


def serializer(keys, name, now):
    class PinnedSigner(itsdangerous.TimestampSigner):
        def get_timestamp(self):
            return now

    # itsdangerous takes keys oldest first and signs with the last one.
    return URLSafeTimedSerializer(
        keys if len(keys) > 1 else keys[0],
        salt="ctxsession:" + name,
        signer=PinnedSigner,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
    )


def main(argv):
    cmd = argv[1]
    if cmd == "dumps":
        key, name, now = argv[2], argv[3], int(argv[4])
        obj = json.loads(sys.stdin.read())
        print(serializer([key], name, now).dumps(obj))
    elif cmd == "loads":
        key, name, now, max_age = argv[2], argv[3], int(argv[4]), int(argv[5])
        older = list(reversed(argv[6:]))  # given newest first, like FallbackKeys
        value = sys.stdin.read().strip()
        try:
            obj = serializer(older + [key], name, now).loads(value, max_age=max_age)
        except itsdangerous.BadData as e:
            print("error: " + type(e).__name__)
            return
        print(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
