"""Peer for the Go interop tests: a real Flask 2.2 app with the real
Flask-Login 0.6.2, served by Werkzeug's server on 127.0.0.1 and a free
port. Runs under Debian's /usr/bin/python3 (python3-flask,
python3-flask-login; Flask-Login 0.6.2 does not import under Werkzeug 3).

Usage: flask_login_app.py CONFIG, CONFIG a JSON object:
  {"secret": KEY,
   "protection": "basic" | "strong",        SESSION_PROTECTION
   "server_name": HOST or null,              SERVER_NAME = HOST:PORT
   "cookie_name": NAME,                      SESSION_COOKIE_NAME
   "cookie_domain": null | false | DOMAIN,   SESSION_COOKIE_DOMAIN
   "lifetime": SECONDS}                      PERMANENT_SESSION_LIFETIME
It prints {"port": PORT} as its first line, then serves until killed.

Routes (JSON answers; 401 from Flask-Login when a login is missing or not
fresh):
  POST /login/<id>?remember=1   login_user(User(id), remember=...)
  POST /logout                  logout_user()
  GET  /whoami                  {"user", "fresh", "permanent", "keys"}
  GET  /protected               @login_required
  GET  /fresh                   @fresh_login_required
  POST /permanent/<0|1>         session.permanent = ...
  POST /set/<k>/<v>             session[k] = v
  POST /special                 values json writes that encoding/json
                                refuses or changes
  GET  /special                 {key: repr(value)} of those keys
  POST /pad/<total>             pads the session so that its cookie has
                                exactly total bytes, name included
"""
import datetime
import json
import random
import sys

from flask import Flask, jsonify, session
from flask_login import (LoginManager, UserMixin, current_user,
                         fresh_login_required, login_fresh, login_required,
                         login_user, logout_user)
from werkzeug.serving import WSGIRequestHandler, make_server

SPECIAL = ("nan", "inf", "ninf", "lone", "lone_low", "big", "deep")


class User(UserMixin):
    def __init__(self, uid):
        self.id = uid


def make_app(cfg):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = cfg["secret"]
    app.config["SESSION_PROTECTION"] = cfg.get("protection", "basic")
    app.config["PERMANENT_SESSION_LIFETIME"] = datetime.timedelta(seconds=cfg.get("lifetime", 14 * 24 * 3600))
    if cfg.get("cookie_name"):
        app.config["SESSION_COOKIE_NAME"] = cfg["cookie_name"]
    if "cookie_domain" in cfg:
        app.config["SESSION_COOKIE_DOMAIN"] = cfg["cookie_domain"]
    manager = LoginManager(app)
    manager.user_loader(User)

    @app.post("/login/<uid>")
    def login(uid):
        from flask import request
        login_user(User(uid), remember=request.args.get("remember") == "1")
        return jsonify(ok=True)

    @app.post("/logout")
    def logout():
        logout_user()
        return jsonify(ok=True)

    @app.get("/whoami")
    def whoami():
        user = current_user.get_id() if current_user.is_authenticated else None
        return jsonify(user=user, fresh=login_fresh(), permanent=session.permanent, keys=sorted(session.keys()))

    @app.get("/protected")
    @login_required
    def protected():
        return jsonify(ok=True, user=current_user.get_id())

    @app.get("/fresh")
    @fresh_login_required
    def fresh():
        return jsonify(ok=True, user=current_user.get_id())

    @app.post("/permanent/<int:on>")
    def permanent(on):
        session.permanent = bool(on)
        return jsonify(ok=True)

    @app.post("/set/<k>/<v>")
    def set_value(k, v):
        session[k] = v
        return jsonify(ok=True)

    @app.post("/special")
    def special():
        session["nan"] = float("nan")
        session["inf"] = float("inf")
        session["ninf"] = float("-inf")
        session["lone"] = "a\ud800b"
        session["lone_low"] = "\udfff"
        session["big"] = 2 ** 100 + 1
        deep = []
        for _ in range(200):
            deep = [deep]
        session["deep"] = deep
        return jsonify(ok=True)

    @app.get("/special")
    def read_special():
        return jsonify({k: repr(session.get(k)) for k in SPECIAL})

    @app.post("/pad/<int:total>")
    def pad(total):
        # The cookie value is what the session interface would write for
        # the session with the pad: find a pad length that makes it total
        # bytes with the name. Pseudo-random letters, so that the length
        # grows with the pad (zlib gains little on them).
        serializer = app.session_interface.get_signing_serializer(app)
        name = app.config["SESSION_COOKIE_NAME"]
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        # base64 writes 4 bytes for 3, so some totals need a second, short
        # key to shift the length.
        rng = random.Random(1)
        letters = "".join(rng.choice(alphabet) for _ in range(8000))
        for shift in ("", "x", "xx", "xxx"):
            def size(n):
                trial = dict(session, pad=letters[:n], shift=shift)
                return len(name) + len(serializer.dumps(trial))
            lo, hi = 0, len(letters)
            while lo < hi:  # the shortest pad whose cookie reaches total
                mid = (lo + hi) // 2
                if size(mid) < total:
                    lo = mid + 1
                else:
                    hi = mid
            for n in range(max(lo - 8, 0), lo + 8):
                if size(n) == total:
                    session["pad"], session["shift"] = letters[:n], shift
                    return jsonify(ok=True, pad=n)
        return jsonify(ok=False), 500

    return app


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def main():
    cfg = json.loads(sys.argv[1])
    app = make_app(cfg)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    if cfg.get("server_name"):
        app.config["SERVER_NAME"] = f"{cfg['server_name']}:{server.port}"
    print(json.dumps({"port": server.port}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
