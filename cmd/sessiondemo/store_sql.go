package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/mysqlstore"
	"github.com/ctxsession/sessions/pgstore"
	"github.com/ctxsession/sessions/sqlitestore"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
)

// openPostgres connects to the PostgreSQL database of a postgres:// URL
// and creates the sessions table if missing.
func openPostgres(ctx context.Context, spec string) (sessions.Store, string, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, spec)
	if err != nil {
		return nil, "", nil, err
	}
	s := pgstore.New(pool)
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, "", nil, fmt.Errorf("postgres at %s: %w", pool.Config().ConnConfig.Host, err)
	}
	desc := fmt.Sprintf("in PostgreSQL at %s, database %s", pool.Config().ConnConfig.Host, pool.Config().ConnConfig.Database)
	return s, desc, func() { s.Close(); pool.Close() }, nil
}

// openMySQL connects to the MySQL or MariaDB database of a
// mysql://user:password@host:port/database URL and creates the sessions
// table if missing.
func openMySQL(ctx context.Context, spec string) (sessions.Store, string, func(), error) {
	u, err := url.Parse(spec)
	if err != nil {
		return nil, "", nil, err
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr = "tcp", u.Host
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, "", nil, err
	}
	return migrateSQL(ctx, db, mysqlstore.New(db), fmt.Sprintf("in MySQL at %s, database %s", cfg.Addr, cfg.DBName))
}

// openSQLite opens (creating it if missing) the SQLite database of
// sqlite:PATH and creates the sessions table if missing.
func openSQLite(ctx context.Context, path string) (sessions.Store, string, func(), error) {
	if path == "" {
		return nil, "", nil, fmt.Errorf(`"sqlite:" needs a path, as in sqlite:./sessions.db`)
	}
	db, err := sqlitestore.Open(path)
	if err != nil {
		return nil, "", nil, err
	}
	return migrateSQL(ctx, db, sqlitestore.New(db), "in SQLite at "+path)
}

// sqlStore is what the database/sql stores have in common here.
type sqlStore interface {
	sessions.Store
	Migrate(ctx context.Context) error
	Close() error
}

func migrateSQL(ctx context.Context, db *sql.DB, s sqlStore, desc string) (sessions.Store, string, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, "", nil, fmt.Errorf("%s: %w", strings.TrimPrefix(desc, "in "), err)
	}
	return s, desc, func() { s.Close(); db.Close() }, nil
}
