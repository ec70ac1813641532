package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// sharedStore starts a throwaway PostgreSQL for the shared-store case and
// returns the URL of its database and how to stop it; an error (no
// PostgreSQL installed, say) skips the case.
func sharedStore() (dsn string, stop func(), err error) {
	srv, err := pgtest.StartCluster()
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Exec(ctx, "CREATE DATABASE bench"); err != nil {
		_ = srv.Stop()
		return "", nil, fmt.Errorf("create the benchmark's database: %w", err)
	}
	return srv.DSN("bench"), func() { _ = srv.Stop() }, nil
}
