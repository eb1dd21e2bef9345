module github.com/ctxsession/sessions/benchmarks

go 1.26

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/ctxsession/sessions v0.0.0
	github.com/gorilla/sessions v1.4.0
)

require github.com/gorilla/securecookie v1.1.2 // indirect

replace github.com/ctxsession/sessions => ../
