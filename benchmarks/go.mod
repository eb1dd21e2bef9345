module github.com/ctxsession/sessions/benchmarks

go 1.26.0

require (
	github.com/alexedwards/scs/redisstore v0.0.0-20251002162104-209de6e426de
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/ctxsession/sessions v0.0.0
	github.com/ctxsession/sessions/redisstore v0.0.0-00010101000000-000000000000
	github.com/gomodule/redigo v1.8.0
	github.com/gorilla/sessions v1.4.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/ctxsession/sessions => ../

replace github.com/ctxsession/sessions/redisstore => ../redisstore
