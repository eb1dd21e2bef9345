//go:build unix

package benchmarks

import "syscall"

// cpuTime returns the CPU time (user and system) the process has used, in
// nanoseconds: the benchmark's goroutine and the garbage collector's
// workers, but not the time spent waiting for a CPU on a busy machine.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
