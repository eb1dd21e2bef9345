"""Peer for the Go interop tests: a real Starlette app with its
SessionMiddleware, served by uvicorn on 127.0.0.1 and a free port. Runs
under Debian's /usr/bin/python3 (python3-starlette, python3-uvicorn).

Usage: starlette_app.py CONFIG, CONFIG a JSON object {"secret": KEY}.
It prints {"port": PORT} as its first line, then serves until killed.

Routes (JSON answers):
  GET  /session          {"session": dict(request.session)}
  POST /set/{k}/{v}      request.session[k] = v
  POST /big/{n}          request.session["big"] = n pseudo-random letters
                         (a cookie larger than browsers keep)
"""
import json
import random
import socket
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route


async def read(request):
    return JSONResponse({"session": dict(request.session)})


async def set_value(request):
    request.session[request.path_params["k"]] = request.path_params["v"]
    return JSONResponse({"ok": True})


async def big(request):
    rng = random.Random(1)
    n = request.path_params["n"]
    request.session["big"] = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))
    return JSONResponse({"ok": True})


def main():
    cfg = json.loads(sys.argv[1])
    app = Starlette(
        routes=[
            Route("/session", read),
            Route("/set/{k}/{v}", set_value, methods=["POST"]),
            Route("/big/{n:int}", big, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=cfg["secret"])],
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
