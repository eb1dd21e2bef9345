"""Peer for the Go interop tests: microdot's session cookie, an HS256 JWT
made and read with PyJWT exactly as microdot.session.Session.encode() and
decode() do (microdot itself is not needed for that). Runs under Debian's
/usr/bin/python3 (python3-jwt).

Usage: jwt_peer.py < JSON list of operations -> JSON list of results.
  {"op": "encode", "secret": KEY, "payload": {...}, "alg": "HS256"}
      -> {"token": JWT}    alg may be "none", "HS512" or "RS256" (a fresh
                           RSA key) to mint tokens Go must refuse
  {"op": "decode", "secret": KEY, "token": JWT}
      -> {"payload": {...}, "error": null | "ExceptionClass"}
         payload is {} when PyJWT rejects the token, as in microdot
"""
import json
import sys

import jwt


class MicrodotSession:
    """The signing half of microdot.session.Session."""

    def __init__(self, secret_key):
        self.secret_key = secret_key

    def encode(self, payload, secret_key=None):
        return jwt.encode(payload, secret_key or self.secret_key, algorithm="HS256")

    def decode(self, session, secret_key=None):
        try:
            payload = jwt.decode(session, secret_key or self.secret_key, algorithms=["HS256"])
        except jwt.exceptions.PyJWTError as e:
            return {}, type(e).__name__
        return payload, None


def rsa_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def main():
    out = []
    for op in json.load(sys.stdin):
        s = MicrodotSession(op["secret"])
        if op["op"] == "encode":
            alg = op.get("alg", "HS256")
            if alg == "HS256":
                token = s.encode(op["payload"])
            elif alg == "none":
                token = jwt.encode(op["payload"], None, algorithm="none")
            elif alg == "RS256":
                token = jwt.encode(op["payload"], rsa_key(), algorithm="RS256")
            else:
                token = jwt.encode(op["payload"], op["secret"], algorithm=alg)
            out.append({"token": token})
        else:
            payload, err = s.decode(op["token"])
            out.append({"payload": payload, "error": err})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
