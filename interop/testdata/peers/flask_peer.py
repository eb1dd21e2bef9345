"""Peer for the Go interop tests: a real Flask 3.1 app with its default
SecureCookieSessionInterface, driven through Flask's test client.

Flask-Login is emulated with plain session code: login_user() stores
"_user_id", "_fresh" and "_id" in the session, logout_user() removes them,
and current_user is loaded from "_user_id" (that is all the session side of
Flask-Login does).

Usage: flask_peer.py < JSON list of requests -> JSON list of responses
(the loop and the pinned clock are in peerlib.py).
A request is
  {"secret": KEY, "fallbacks": [OLD_KEY...], "now": UNIX_SECONDS or null,
   "method": "GET", "path": "/read", "cookie": VALUE or null, "json": BODY}
and its response
  {"status": 200, "body": JSON, "cookie": new session cookie value, "" when
   Flask deleted it, null when it sent none}.
"""
import base64
import datetime
import hashlib
import uuid

from flask import Flask, flash, get_flashed_messages, jsonify, request, session
from markupsafe import Markup

import peerlib


def describe(v):
    """A JSON view of a session value that keeps its Python type."""
    if isinstance(v, Markup):
        return {"markup": str(v)}
    if isinstance(v, tuple):
        return {"tuple": [describe(x) for x in v]}
    if isinstance(v, bytes):
        return {"bytes": base64.b64encode(v).decode()}
    if isinstance(v, datetime.datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, uuid.UUID):
        return {"uuid": str(v)}
    if isinstance(v, dict):
        return {"dict": {k: describe(x) for k, x in v.items()}}
    if isinstance(v, list):
        return {"list": [describe(x) for x in v]}
    return v


def make_app(secret, fallbacks):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret
    app.config["SECRET_KEY_FALLBACKS"] = fallbacks
    app.config["PERMANENT_SESSION_LIFETIME"] = datetime.timedelta(days=14)

    @app.get("/read")
    def read():
        # Flask gives an empty session for a cookie it rejects.
        return jsonify(
            session={k: describe(v) for k, v in session.items()},
            user=session.get("_user_id"),
            fresh=session.get("_fresh", False),
        )

    @app.post("/rich")
    def rich():
        session["tuple"] = (1, "two", (3,))
        session["bytes"] = b"\x00\xffbin"
        session["when"] = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
        session["id"] = uuid.UUID("12345678-1234-5678-1234-567812345678")
        session["html"] = Markup("<b>bold</b>")
        session["tagged_key"] = {" t": [1, 2]}  # a dict Flask must escape
        session["nested"] = {"list": [(1, 2), {"b": b"x"}], "plain": "text"}
        return "ok"

    @app.post("/set")
    def set_values():
        session.update(request.get_json())
        return "ok"

    @app.post("/incr")
    def incr():
        session["n"] = session.get("n", 0) + 1
        return jsonify(n=session["n"])

    @app.post("/login/<uid>")
    def login(uid):  # flask_login.login_user
        session["_user_id"] = uid
        session["_fresh"] = True
        session["_id"] = hashlib.sha512(b"127.0.0.1|None").hexdigest()
        return "ok"

    @app.post("/logout")
    def logout():  # flask_login.logout_user
        for k in ("_user_id", "_fresh", "_id", "_remember"):
            session.pop(k, None)
        return "ok"

    @app.get("/whoami")
    def whoami():  # current_user, as Flask-Login's user loader sees it
        uid = session.get("_user_id")
        return jsonify(user=uid, authenticated=uid is not None)

    @app.post("/flash")
    def add_flash():
        for category, message in request.get_json():
            flash(Markup(message) if category == "markup" else message, category)
        return "ok"

    @app.get("/flashes")
    def flashes():
        return jsonify(get_flashed_messages(with_categories=True))

    return app


def session_cookie(resp):
    for header in resp.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name == "session":
            value = rest.split(";", 1)[0]
            if "Expires=Thu, 01 Jan 1970" in header or "Max-Age=0" in header:
                return ""
            return value
    return None


def handle(req):
    app = make_app(req["secret"], req.get("fallbacks") or [])
    client = app.test_client()
    if req.get("cookie") is not None:
        # The test client builds the Cookie header from its jar (it
        # drops one passed in headers).
        client.set_cookie("session", req["cookie"])
    kwargs = {}
    if "json" in req:
        kwargs["json"] = req["json"]
    resp = client.open(req["path"], method=req.get("method", "GET"), **kwargs)
    body = resp.get_json(silent=True)
    if body is None:
        body = resp.get_data(as_text=True)
    return {"status": resp.status_code, "body": body, "cookie": session_cookie(resp)}


if __name__ == "__main__":
    peerlib.serve(handle)
