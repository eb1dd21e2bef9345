package benchmarks

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/ctxsession/sessions/mysqlstore"
	"github.com/ctxsession/sessions/pgstore"
	"github.com/ctxsession/sessions/sqlitestore"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The servers the SQL rows use; CI provisions both.
const (
	DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=5"
	DefaultMySQLAddr   = "127.0.0.1:3306"
)

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

// openPgstore opens pgstore on a table of its own, dropped at Close; pgx
// dials through env.Dial.
func openPgstore(env *Env) (OpenStore, error) {
	cfg, err := pgxpool.ParseConfig(env.PostgresDSN)
	if err != nil {
		return OpenStore{}, err
	}
	cfg.ConnConfig.DialFunc = env.dial
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return OpenStore{}, err
	}
	env.Defer(pool.Close)
	if err := ping("PostgreSQL at "+cfg.ConnConfig.Host, pool.Ping); err != nil {
		return OpenStore{}, err
	}
	table := benchTable()
	s := pgstore.New(pool, pgstore.WithTable(table), pgstore.WithCleanupInterval(0))
	env.Defer(func() { pool.Exec(context.Background(), `DROP TABLE IF EXISTS "`+table+`"`) })
	return OpenStore{Store: s}, s.Migrate(context.Background())
}

// openMysqlstore opens mysqlstore on a table of its own, dropped at Close;
// go-sql-driver/mysql dials through env.Dial (a dialer registered under a
// name of this Env's).
func openMysqlstore(env *Env) (OpenStore, error) {
	network := benchTable() // a name of its own for the dialer
	mysql.RegisterDialContext(network, func(ctx context.Context, addr string) (net.Conn, error) {
		return env.dial(ctx, "tcp", addr)
	})
	db, err := sql.Open("mysql", "root@"+network+"("+env.MySQLAddr+")/test?timeout=5s")
	if err != nil {
		return OpenStore{}, err
	}
	env.Defer(func() { db.Close() })
	if err := ping("MySQL at "+env.MySQLAddr, db.PingContext); err != nil {
		return OpenStore{}, err
	}
	table := benchTable()
	s := mysqlstore.New(db, mysqlstore.WithTable(table), mysqlstore.WithCleanupInterval(0))
	env.Defer(func() { db.Exec("DROP TABLE IF EXISTS `" + table + "`") })
	// The counters are read on a connection of their own, which a counting
	// Dial does not see.
	admin, err := sql.Open("mysql", "root@tcp("+env.MySQLAddr+")/test?timeout=5s")
	if err != nil {
		return OpenStore{}, err
	}
	env.Defer(func() { admin.Close() })
	stats := func(ctx context.Context) (map[string]int64, error) { return mysqlCommandStats(ctx, admin) }
	return OpenStore{Store: s, Stats: stats}, s.Migrate(context.Background())
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

// openSqlitestore opens sqlitestore on a database file in a temporary
// directory. It has no wire: cmd/roundtrips cannot count it.
func openSqlitestore(env *Env) (OpenStore, error) {
	dir, err := env.TempDir()
	if err != nil {
		return OpenStore{}, err
	}
	db, err := sqlitestore.Open(filepath.Join(dir, "sessions.db"))
	if err != nil {
		return OpenStore{}, err
	}
	env.Defer(func() { db.Close() })
	s := sqlitestore.New(db, sqlitestore.WithCleanupInterval(0))
	return OpenStore{Store: s}, s.Migrate(context.Background())
}
