//go:build unix

package filestore

import (
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// unsafeDir returns why a directory is unsafe for session files ("" when
// it is safe): writable by group or others, or owned by a user other than
// this process's effective user and root, as OpenSSH's StrictModes treat
// ~/.ssh. Anyone who can write the directory can edit a session file and
// become that session's user.
func unsafeDir(fi fs.FileInfo) string {
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return "is writable by group or others (mode " + perm.String() + "); run chmod go-w on it"
	}
	return unsafeOwner(fi)
}

// unsafeOwner is unsafeDir's owner check alone, for a symbolic link: its
// owner could point it elsewhere later.
func unsafeOwner(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	if uid := os.Geteuid(); int64(st.Uid) != int64(uid) && st.Uid != 0 {
		return "is owned by another user (uid " + strconv.FormatUint(uint64(st.Uid), 10) +
			"; this process runs as uid " + strconv.Itoa(uid) + ")"
	}
	return ""
}
