module github.com/ctxsession/sessions/cmd/sessiondemo

go 1.26

replace github.com/ctxsession/sessions => ../..

require github.com/ctxsession/sessions v0.0.0-00010101000000-000000000000
