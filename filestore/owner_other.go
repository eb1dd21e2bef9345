//go:build !unix

package filestore

import "io/fs"

// unsafeDir checks nothing where Unix modes and owners do not apply;
// protect the directory with the system's own access control.
func unsafeDir(fs.FileInfo) string { return "" }

// unsafeOwner checks nothing either.
func unsafeOwner(fs.FileInfo) string { return "" }
