// Package interop holds no code: its tests run the real Python libraries
// whose cookie formats the sessions package speaks (itsdangerous, Flask,
// Starlette, PyJWT as microdot uses it, and an independent implementation
// of the encrypted format), each as a separate process, against the public
// API of github.com/ctxsession/sessions and the sessionctl command, in both
// directions. The peers are in testdata/peers; .ci/provision.sh installs
// the Python packages they need. A missing interpreter or module fails the
// tests: nothing here skips.
package interop
