//go:build !unix

package filestore

import "os"

// Without flock, the store's in-process locks are all there is.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}
