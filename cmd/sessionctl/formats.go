package main

import (
	"strings"

	sessions "github.com/ctxsession/sessions"
)

// The formats the command takes are the library's (sessions.Formats), by
// the names Format.MarshalText gives and UnmarshalText reads: nothing here
// lists them.

// formatNames lists the library's formats by name, in Format order; the
// first, the zero Format, is the default.
func formatNames() []string {
	var names []string
	for _, f := range sessions.Formats() {
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
	var f sessions.Format
	if name == "" {
		return f, nil
	}
	err := f.UnmarshalText([]byte(name))
	return f, err
}
