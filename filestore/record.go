package filestore

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/ctxsession/sessions"
)

// This file holds the format of a session file.

// header is the first line of a session file:
// "ctxsession2 <expiry unix ms> <user id in hex, or -> <version>\n".
// Milliseconds, so that any expiry a time.Time can hold fits.
const magic = "ctxsession2"

func encode(rec sessions.Record, expiry time.Time, version uint64) []byte {
	u := "-"
	if rec.UserID != "" {
		u = hex.EncodeToString([]byte(rec.UserID))
	}
	b := make([]byte, 0, len(magic)+len(u)+48+len(rec.Data))
	b = append(b, magic...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, expiry.UnixMilli(), 10)
	b = append(b, ' ')
	b = append(b, u...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, version, 10)
	b = append(b, '\n')
	return append(b, rec.Data...)
}

type fileRec struct {
	expiry  time.Time
	user    string
	version uint64
	data    []byte
}

func decode(b []byte) (fileRec, error) {
	line, data, ok := strings.Cut(string(b), "\n")
	if !ok {
		return fileRec{}, ErrCorrupt
	}
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != magic {
		return fileRec{}, ErrCorrupt
	}
	ms, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return fileRec{}, ErrCorrupt
	}
	version, err := strconv.ParseUint(f[3], 10, 64)
	if err != nil {
		return fileRec{}, ErrCorrupt
	}
	r := fileRec{expiry: time.UnixMilli(ms), version: version, data: []byte(data)}
	if f[2] != "-" {
		u, err := hex.DecodeString(f[2])
		if err != nil || len(u) == 0 {
			return fileRec{}, ErrCorrupt
		}
		r.user = string(u)
	}
	return r, nil
}
