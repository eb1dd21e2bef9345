//go:build !race

package sessions

// raceDetector reports a build with the race detector, under which
// sync.Pool drops some of what it is given (allocation counts grow).
const raceDetector = false
