// Package sqlbench opens the SQL stores for cmd/roundtrips, which counts
// their round trips. It is a package of its own so that the timing
// binaries (the go test benchmarks, cmd/serverbench) do not link the
// database drivers: linking them made every row of those slower
// (measured on an untouched request through httptest, pinned to one CPU:
// 14% with pgx and go-sql-driver/mysql, 19% with modernc.org/sqlite
// too; most likely the collector's work on their package-level data in
// every cycle, which a benchmark's small heap runs often).
package sqlbench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/ctxsession/sessions/benchmarks"
	"github.com/ctxsession/sessions/mysqlstore"
	"github.com/ctxsession/sessions/pgstore"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The servers the stores use; CI provisions both.
const (
	PostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=5"
	MySQLAddr   = "127.0.0.1:3306"
)

// Stores are the SQL stores with a wire, in the form of benchmarks.Stores.
var Stores = []benchmarks.StoreCtor{
	{Name: "pgstore", Open: openPgstore},
	{Name: "mysqlstore", Open: openMysqlstore},
}

// benchTable returns a table name of its own for one store of one run.
func benchTable() string {
	var b [6]byte
	rand.Read(b[:])
	return "ctxsession_bench_" + hex.EncodeToString(b[:])
}

// ping checks that a server answers within five seconds.
func ping(what string, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f(ctx); err != nil {
		return fmt.Errorf("%s: %w (the %s rows need it)", what, err, what)
	}
	return nil
}

// openPgstore opens pgstore at PostgresDSN on a table of its own, dropped at Close; pgx
// dials through env.Dial.
func openPgstore(env *benchmarks.Env) (benchmarks.OpenStore, error) {
	cfg, err := pgxpool.ParseConfig(PostgresDSN)
	if err != nil {
		return benchmarks.OpenStore{}, err
	}
	cfg.ConnConfig.DialFunc = env.DialContext
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return benchmarks.OpenStore{}, err
	}
	env.Defer(pool.Close)
	if err := ping("PostgreSQL at "+cfg.ConnConfig.Host, pool.Ping); err != nil {
		return benchmarks.OpenStore{}, err
	}
	table := benchTable()
	s := pgstore.New(pool, pgstore.WithTable(table), pgstore.WithCleanupInterval(0))
	env.Defer(func() { pool.Exec(context.Background(), `DROP TABLE IF EXISTS "`+table+`"`) })
	return benchmarks.OpenStore{Store: s}, s.Migrate(context.Background())
}

// openMysqlstore opens mysqlstore at MySQLAddr on a table of its own, dropped at Close;
// go-sql-driver/mysql dials through env.Dial (a dialer registered under a
// name of this Env's).
func openMysqlstore(env *benchmarks.Env) (benchmarks.OpenStore, error) {
	network := benchTable() // a name of its own for the dialer
	mysql.RegisterDialContext(network, func(ctx context.Context, addr string) (net.Conn, error) {
		return env.DialContext(ctx, "tcp", addr)
	})
	db, err := sql.Open("mysql", "root@"+network+"("+MySQLAddr+")/test?timeout=5s")
	if err != nil {
		return benchmarks.OpenStore{}, err
	}
	env.Defer(func() { db.Close() })
	if err := ping("MySQL at "+MySQLAddr, db.PingContext); err != nil {
		return benchmarks.OpenStore{}, err
	}
	table := benchTable()
	s := mysqlstore.New(db, mysqlstore.WithTable(table), mysqlstore.WithCleanupInterval(0))
	env.Defer(func() { db.Exec("DROP TABLE IF EXISTS `" + table + "`") })
	// The counters are read on a connection of their own, which a counting
	// Dial does not see.
	admin, err := sql.Open("mysql", "root@tcp("+MySQLAddr+")/test?timeout=5s")
	if err != nil {
		return benchmarks.OpenStore{}, err
	}
	env.Defer(func() { admin.Close() })
	stats := func(ctx context.Context) (map[string]int64, error) { return mysqlCommandStats(ctx, admin) }
	return benchmarks.OpenStore{Store: s, Stats: stats}, s.Migrate(context.Background())
}

// mysqlCommandStats returns the server's statement counters (SHOW GLOBAL
// STATUS: Com_select, Com_stmt_execute and the like, without "Com_"),
// leaving out the SHOW that reads them.
func mysqlCommandStats(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, `SHOW GLOBAL STATUS LIKE 'Com\_%'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		if name != "Com_show_status" {
			out[strings.TrimPrefix(name, "Com_")] = n
		}
	}
	return out, rows.Err()
}
