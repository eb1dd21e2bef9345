module github.com/ctxsession/sessions/benchmarks

go 1.26.0

require (
	github.com/alexedwards/scs/redisstore v0.0.0-20251002162104-209de6e426de
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/ctxsession/sessions v0.0.0
	github.com/ctxsession/sessions/mysqlstore v0.0.0-00010101000000-000000000000
	github.com/ctxsession/sessions/pgstore v0.0.0-00010101000000-000000000000
	github.com/ctxsession/sessions/redisstore v0.0.0-00010101000000-000000000000
	github.com/go-sql-driver/mysql v1.10.1
	github.com/gomodule/redigo v1.8.0
	github.com/gorilla/sessions v1.4.0
	github.com/jackc/pgx/v5 v5.12.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/stretchr/testify v1.12.1
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/ctxsession/sessions => ../

replace github.com/ctxsession/sessions/redisstore => ../redisstore

replace github.com/ctxsession/sessions/pgstore => ../pgstore

replace github.com/ctxsession/sessions/mysqlstore => ../mysqlstore

replace github.com/ctxsession/sessions/sqlitestore => ../sqlitestore
