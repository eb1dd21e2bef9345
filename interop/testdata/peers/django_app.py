"""Peer for the Go interop tests: a real Django 3.2 project with the
signed_cookies session backend and django.contrib.auth, served by
wsgiref's WSGI server on 127.0.0.1 and a free port. Runs under Debian's
/usr/bin/python3 (python3-django).

Usage: django_app.py CONFIG, CONFIG a JSON object:
  {"secret": SECRET_KEY, "db": PATH of the SQLite database}
It migrates the database, creates the users ann (id 1) and bob (id 2),
prints {"port": PORT, "users": {ID: PASSWORD HASH}} as its first line (the
hashes read from the auth_user table, as a Go service would read them),
then serves until killed.

Routes (JSON answers; no CSRF middleware, so POSTs need no token):
  POST /login/<id>        django.contrib.auth.login(request, user)
  POST /logout            django.contrib.auth.logout(request)
  GET  /whoami            {"user": request.user.pk or null, "username", "keys"}
  POST /set/<k>/<v>       request.session[k] = v
  GET  /get/<k>           {"value": request.session.get(k)}
  POST /password/<id>/<p> user.set_password(p); the hash changes
"""
import json
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from socketserver import ThreadingMixIn

import django
from django.conf import settings
from django.urls import path

CFG = json.loads(sys.argv[1])

settings.configure(
    SECRET_KEY=CFG["secret"],
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": CFG["db"]}},
    # Fast hashing for the test users; the hash is opaque to the session.
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    USE_TZ=True,
)
django.setup()

from django.contrib.auth import login, logout  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.http import JsonResponse  # noqa: E402


def do_login(request, uid):
    login(request, User.objects.get(pk=uid))
    return JsonResponse({"ok": True})


def do_logout(request):
    logout(request)
    return JsonResponse({"ok": True})


def whoami(request):
    u = request.user
    return JsonResponse({
        "user": u.pk if u.is_authenticated else None,
        "username": u.username if u.is_authenticated else None,
        "keys": sorted(request.session.keys()),
    })


def set_value(request, k, v):
    request.session[k] = v
    return JsonResponse({"ok": True})


def get_value(request, k):
    return JsonResponse({"value": request.session.get(k)})


def password(request, uid, p):
    u = User.objects.get(pk=uid)
    u.set_password(p)
    u.save()
    return JsonResponse({"ok": True})


urlpatterns = [
    path("login/<int:uid>", do_login),
    path("logout", do_logout),
    path("whoami", whoami),
    path("set/<str:k>/<str:v>", set_value),
    path("get/<str:k>", get_value),
    path("password/<int:uid>/<str:p>", password),
]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main():
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    call_command("migrate", verbosity=0)
    User.objects.create_user("ann", password="ann-password")
    User.objects.create_user("bob", password="bob-password")
    with connection.cursor() as cur:
        cur.execute("SELECT id, password FROM auth_user ORDER BY id")
        users = {str(i): p for i, p in cur.fetchall()}
    server = make_server("127.0.0.1", 0, get_wsgi_application(),
                         server_class=ThreadingServer, handler_class=QuietHandler)
    print(json.dumps({"port": server.server_port, "users": users}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
