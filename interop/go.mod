module github.com/ctxsession/sessions/interop

go 1.26.0

replace github.com/ctxsession/sessions => ../

require (
	github.com/ctxsession/sessions v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/gorilla/securecookie v1.1.2 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.62.0 // indirect
)
