package main

import (
	"strings"

	sessions "github.com/ctxsession/sessions"
)

// formatList names the formats the command takes, for the usage text.
const formatList = "itsdangerous (default), flask, starlette, jwt, encrypted"

// libFormat maps a format name to the library's Format; "" is the default.
func libFormat(name string) (sessions.Format, error) {
	if name == "" {
		return sessions.FormatItsdangerous, nil
	}
	return sessions.ParseFormat(name)
}

// formatNames lists the formats the library supports, by name.
func formatNames() []string {
	var names []string
	for f := sessions.Format(0); !strings.HasPrefix(f.String(), "Format("); f++ {
		names = append(names, f.String())
	}
	return names
}
