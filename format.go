package sessions

import (
	"fmt"
	"strconv"
	"strings"
)

var formatNames = [...]string{
	FormatItsdangerous: "itsdangerous",
	FormatFlask:        "flask",
	FormatStarlette:    "starlette",
	FormatJWT:          "jwt",
	FormatEncrypted:    "encrypted",
}

// String returns the format's name: "itsdangerous", "flask", "starlette",
// "jwt" or "encrypted"; an unknown value prints as "Format(n)".
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat returns the Format called s (one of the names String
// returns; case and surrounding spaces are ignored), for command-line
// flags and configuration files. An unknown name is an error matching
// ErrInvalidConfig.
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for f, n := range formatNames {
		if n == name {
			return Format(f), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown format %q (want one of %s)", ErrInvalidConfig, s, strings.Join(formatNames[:], ", "))
}
