package main

import (
	"fmt"

	sessions "github.com/ctxsession/sessions"
)

// formatList names the formats the command takes, for the usage text.
const formatList = fmtItsdangerous

// libFormat maps a format name to the library's Format; "" is the default.
func libFormat(name string) (sessions.Format, error) {
	switch name {
	case "", fmtItsdangerous:
		return sessions.FormatItsdangerous, nil
	}
	return 0, fmt.Errorf("unknown format %q (known: %s)", name, formatList)
}

// formatNames lists the formats sign and verify support.
func formatNames() []string {
	return []string{fmtItsdangerous}
}
