package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ctxsession/sessions/benchmarks"
)

// runServer is the child: it serves the workload on 127.0.0.1 until
// SIGTERM or SIGINT, until its standard input closes (the parent is gone),
// or for ten minutes at most. It prints "listening ADDR gomaxprocs=N" once
// ready.
func runServer(name string, op benchmarks.Op, sess *benchmarks.Session, redisAddr, cpuprofile, memprofile string) error {
	env := benchmarks.NewEnv()
	env.RedisAddr = redisAddr
	defer env.Close()
	var work, minter http.Handler
	if name == bare || name == bareVary {
		// The bare server gets the cookie the default configuration mints,
		// so that its requests are the same size.
		ims, err := benchmarks.Open(env, targetImpl)
		if err != nil {
			return err
		}
		work, minter = benchmarks.Nothing(), ims[0].Handler(benchmarks.OpNew, sess, nil)
		if name == bareVary {
			work = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Vary", "Cookie")
				w.WriteHeader(http.StatusNoContent)
			})
		}
	} else {
		ims, err := benchmarks.Open(env, name)
		if err != nil {
			return err
		}
		if why := ims[0].Refuses(sess); why != "" {
			return fmt.Errorf("%s cannot carry the %s session: %s", name, sess.Name, why)
		}
		work, minter = ims[0].Handler(op, sess, nil), ims[0].Handler(benchmarks.OpNew, sess, nil)
	}

	var (
		requests atomic.Int64
		mu       sync.Mutex // guards start and profFile
		start    serverStats
		profFile *os.File
	)
	mux := http.NewServeMux()
	mux.Handle("/__bench/mint", minter)
	mux.HandleFunc("/__bench/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if cpuprofile != "" && profFile == nil {
			f, err := os.Create(cpuprofile)
			if err == nil {
				err = pprof.StartCPUProfile(f)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			profFile = f
		}
		start = snapshot()
		requests.Store(0)
	})
	mux.HandleFunc("/__bench/stop", func(w http.ResponseWriter, r *http.Request) {
		end := snapshot()
		n := requests.Load()
		mu.Lock()
		defer mu.Unlock()
		if profFile != nil {
			pprof.StopCPUProfile()
			profFile.Close()
			profFile = nil
		}
		json.NewEncoder(w).Encode(serverStats{
			CPUNanos: end.CPUNanos - start.CPUNanos, Mallocs: end.Mallocs - start.Mallocs,
			Bytes: end.Bytes - start.Bytes, NumGC: end.NumGC - start.NumGC, Requests: n,
		})
	})
	// The workload's requests go straight to the handler, without the
	// mux.
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/__bench/") {
			mux.ServeHTTP(w, r)
			return
		}
		requests.Add(1)
		work.ServeHTTP(w, r)
	})
	if runtime.GOMAXPROCS(0) != 1 {
		return fmt.Errorf("GOMAXPROCS is %d: run the server pinned to one CPU (taskset -c N)", runtime.GOMAXPROCS(0))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: root, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("listening %s gomaxprocs=%d\n", ln.Addr(), runtime.GOMAXPROCS(0))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Minute):
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if memprofile != "" {
		f, err := os.Create(memprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	return nil
}

func snapshot() serverStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return serverStats{CPUNanos: ru.Utime.Nano() + ru.Stime.Nano(), Mallocs: ms.Mallocs, Bytes: ms.TotalAlloc, NumGC: ms.NumGC}
}
