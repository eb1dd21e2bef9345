// Package interop holds no code: its tests run the real Python frameworks
// and libraries whose cookie formats the sessions package speaks, each as
// a separate process, against the public API of
// github.com/ctxsession/sessions and the sessionctl command, in both
// directions. Flask 2.2 with Flask-Login, Django 3.2 and Starlette run as
// real HTTP servers (Werkzeug, a WSGI server, uvicorn) next to a real Go
// server, with one browser-like cookie jar going back and forth between
// them; itsdangerous, Flask 3.1, PyJWT (as microdot uses it) and an
// independent implementation of the encrypted format are driven as
// scripts. The peers are in testdata/peers; .ci/provision.sh installs the
// Python packages they need. A missing interpreter or module fails the
// tests: nothing here skips.
package interop
