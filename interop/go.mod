module github.com/ctxsession/sessions/interop

go 1.26.0

replace github.com/ctxsession/sessions => ../
