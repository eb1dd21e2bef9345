module github.com/ctxsession/sessions/mysqlstore

go 1.26.0

replace github.com/ctxsession/sessions => ../

require (
	github.com/ctxsession/sessions v0.0.0-00010101000000-000000000000
	github.com/go-sql-driver/mysql v1.10.1
	github.com/stretchr/testify v1.12.1
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.62.0 // indirect
)
