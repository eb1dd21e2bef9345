package main

import (
	"strings"

	sessions "github.com/ctxsession/sessions"
)

// The formats the command takes are the library's, by the names
// Format.String gives and ParseFormat reads: nothing here lists them.

// formatNames lists the library's formats by name, in Format order; the
// first, the zero Format, is the default.
func formatNames() []string {
	var names []string
	for f := sessions.Format(0); !strings.HasPrefix(f.String(), "Format("); f++ {
		names = append(names, f.String())
	}
	return names
}

// formatList names the formats for the usage text, marking the default.
func formatList() string {
	names := formatNames()
	if len(names) > 0 {
		names[0] += " (default)"
	}
	return strings.Join(names, ", ")
}

// libFormat maps a format name to the library's Format; "" is the default.
func libFormat(name string) (sessions.Format, error) {
	if name == "" {
		return sessions.Format(0), nil
	}
	return sessions.ParseFormat(name)
}
