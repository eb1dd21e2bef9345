module github.com/ctxsession/sessions

go 1.26
