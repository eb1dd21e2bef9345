"""Peer for the Go interop tests: a real Starlette app with its
SessionMiddleware (default settings but the secret key), driven through
Starlette's TestClient (httpx). Runs under Debian's /usr/bin/python3.

Usage: starlette_peer.py < JSON list of requests -> JSON list of responses
(the loop and the pinned clock are in peerlib.py).
A request is
  {"secret": KEY, "now": UNIX_SECONDS or null, "method": "GET",
   "path": "/read", "cookie": VALUE or null, "quote": false, "json": BODY}
("quote" sends the value in double quotes, as some proxies rewrite it) and
its response
  {"status": 200, "body": JSON, "cookie": new session cookie value, "" when
   Starlette deleted it, null when it sent none}.
"""
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import peerlib


async def read(request):
    # SessionMiddleware gives an empty session for a cookie it rejects.
    return JSONResponse({"session": dict(request.session)})


async def set_values(request):
    request.session.update(await request.json())
    return JSONResponse({"session": dict(request.session)})


async def incr(request):
    request.session["n"] = request.session.get("n", 0) + 1
    return JSONResponse({"n": request.session["n"]})


async def clear(request):
    request.session.clear()
    return JSONResponse({})


def make_app(secret):
    return Starlette(
        routes=[
            Route("/read", read),
            Route("/set", set_values, methods=["POST"]),
            Route("/incr", incr, methods=["POST"]),
            Route("/clear", clear, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=secret)],
    )


def session_cookie(resp):
    for header in resp.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == "session":
            value = rest.split(";", 1)[0]
            if value in ("", "null") or "expires=Thu, 01 Jan 1970" in header:
                return ""
            return value
    return None


def handle(req):
    client = TestClient(make_app(req["secret"]))
    headers = {}
    if req.get("cookie") is not None:
        v = req["cookie"]
        if req.get("quote"):
            v = '"' + v + '"'
        headers["cookie"] = "session=" + v
    kwargs = {"headers": headers}
    if "json" in req:
        kwargs["json"] = req["json"]
    resp = client.request(req.get("method", "GET"), req["path"], **kwargs)
    return {"status": resp.status_code, "body": resp.json(), "cookie": session_cookie(resp)}


if __name__ == "__main__":
    peerlib.serve(handle)
