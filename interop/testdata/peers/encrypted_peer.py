"""Peer for the Go interop tests: ctxsession's encrypted cookie format,
written from its description with the `cryptography` package, so that a
Python service can share an encrypted session with a Go one.

The format is gorilla/securecookie's with keys derived by HKDF-SHA256:
  hash key  = HKDF(secret, salt=None, info="ctxsession securecookie hmac-sha256 " + name)
  block key = HKDF(secret, salt=None, info="ctxsession securecookie aes-256 " + name)
  plaintext = issued (8 bytes, big-endian Unix seconds) + JSON payload
  inner     = urlsafe_b64(iv + AES-256-CTR(block key, iv, plaintext))   (padded)
  mac       = HMAC-SHA256(hash key, name + "|" + date + "|" + inner)
  value     = urlsafe_b64(date + "|" + inner + "|" + mac)                 (padded)
where date is securecookie's decimal Unix time of encoding.

Usage: encrypted_peer.py < JSON list of operations -> JSON list of results.
  {"op": "keys", "secret": KEY, "name": NAME} -> {"hash": hex, "block": hex}
  {"op": "seal", "secret": KEY, "name": NAME, "payload": JSON_TEXT,
   "issued": UNIX, "date": UNIX}                -> {"value": VALUE}
  {"op": "open", "secrets": [KEY, OLDER...], "name": NAME, "value": VALUE,
   "max_age": SECONDS} -> {"payload": JSON_TEXT, "issued": UNIX} or {"error": REASON}
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive(secret, name):
    def one(info):
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(secret.encode())

    return one("ctxsession securecookie hmac-sha256 " + name), one("ctxsession securecookie aes-256 " + name)


def seal(secret, name, payload, issued, date):
    hash_key, block_key = derive(secret, name)
    plain = issued.to_bytes(8, "big") + payload.encode()
    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(block_key), modes.CTR(iv)).encryptor()
    inner = base64.urlsafe_b64encode(iv + enc.update(plain) + enc.finalize())
    head = str(date).encode() + b"|" + inner
    mac = hmac.new(hash_key, name.encode() + b"|" + head, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(head + b"|" + mac).decode()


def open_value(secrets, name, value, max_age):
    try:
        raw = base64.urlsafe_b64decode(value.encode())
    except ValueError:
        return {"error": "base64"}
    parts = raw.split(b"|", 2)
    if len(parts) != 3:
        return {"error": "shape"}
    date, inner, mac = parts
    for secret in secrets:
        hash_key, block_key = derive(secret, name)
        want = hmac.new(hash_key, name.encode() + b"|" + date + b"|" + inner, hashlib.sha256).digest()
        if not hmac.compare_digest(want, mac):
            continue
        now = int(time.time())
        if int(date) < now - max_age:
            return {"error": "expired date"}
        data = base64.urlsafe_b64decode(inner)
        iv, ct = data[:16], data[16:]
        dec = Cipher(algorithms.AES(block_key), modes.CTR(iv)).decryptor()
        plain = dec.update(ct) + dec.finalize()
        issued = int.from_bytes(plain[:8], "big")
        if issued < now - max_age:
            return {"error": "expired"}
        return {"payload": plain[8:].decode(), "issued": issued}
    return {"error": "bad mac"}


def main():
    out = []
    for op in json.load(sys.stdin):
        if op["op"] == "keys":
            h, b = derive(op["secret"], op["name"])
            out.append({"hash": h.hex(), "block": b.hex()})
        elif op["op"] == "seal":
            out.append({"value": seal(op["secret"], op["name"], op["payload"], op["issued"], op["date"])})
        else:
            out.append(open_value(op["secrets"], op["name"], op["value"], op["max_age"]))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
