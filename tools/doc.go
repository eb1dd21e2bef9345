// Package tools holds no code: its module pins, by the tool directive in
// its go.mod, the tools CI runs (staticcheck), apart from the library's
// own modules so that their go.mod files do not gain the tools'
// dependencies. Its go.work keeps it out of the repository's workspace.
package tools
