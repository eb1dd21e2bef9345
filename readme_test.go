package sessions_test

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxREADMELines is the longest the README may grow; guides belong in docs/.
const maxREADMELines = 350

// TestREADMEOptionsListSessionConfigFields: the README's "## Options" table
// has one row per exported SessionConfig field, in declaration order.
func TestREADMEOptionsListSessionConfigFields(t *testing.T) {
	fields := sessionConfigFields(t, "config.go")
	require.NotEmpty(t, fields, "no exported fields found in SessionConfig")
	rows := optionsRows(t, "README.md")

	missing, extra := without(fields, rows), without(rows, fields)
	msg := "README.md's Options table must list SessionConfig's fields in order"
	if len(missing) > 0 || len(extra) > 0 {
		msg += "; missing " + strings.Join(missing, ", ") + "; extra " + strings.Join(extra, ", ")
	} else {
		msg += "; the same fields, in another order"
	}
	assert.Equal(t, fields, rows, msg)
}

// TestREADMELength: the README stays a short guide.
func TestREADMELength(t *testing.T) {
	data, err := os.ReadFile("README.md")
	require.NoError(t, err)
	lines := strings.Count(string(data), "\n")
	if !strings.HasSuffix(string(data), "\n") {
		lines++
	}
	assert.LessOrEqual(t, lines, maxREADMELines, "README.md has %d lines", lines)
}

// TestREADMELicense: the LICENSE the README links to exists.
func TestREADMELicense(t *testing.T) {
	data, err := os.ReadFile("LICENSE")
	require.NoError(t, err)
	assert.Contains(t, string(data), "MIT License")
}

// sessionConfigFields returns the exported field names of the
// SessionConfig struct declared in file, in order; a field declaring
// several names contributes each of them.
func sessionConfigFields(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	require.NoError(t, err)
	var st *ast.StructType
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == "SessionConfig" {
			st, _ = ts.Type.(*ast.StructType)
			return false
		}
		return st == nil
	})
	require.NotNil(t, st, "%s declares no SessionConfig struct", file)
	var names []string
	for _, field := range st.Fields.List {
		for _, name := range fieldNames(field) {
			if ast.IsExported(name) {
				names = append(names, name)
			}
		}
	}
	return names
}

// fieldNames returns a struct field's names; an embedded field is named
// after its type.
func fieldNames(field *ast.Field) []string {
	if len(field.Names) > 0 {
		names := make([]string, len(field.Names))
		for i, n := range field.Names {
			names[i] = n.Name
		}
		return names
	}
	typ := field.Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	switch typ := typ.(type) {
	case *ast.Ident:
		return []string{typ.Name}
	case *ast.SelectorExpr:
		return []string{typ.Sel.Name}
	}
	return nil
}

// optionRow matches a table row whose first cell is a backticked name.
var optionRow = regexp.MustCompile("^\\|\\s*`([A-Za-z_][A-Za-z0-9_]*)`\\s*\\|")

// optionsRows returns the first-column names of the table rows in the
// "## Options" section of the Markdown file, in order.
func optionsRows(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	var rows []string
	in, found := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "## ") || line == "##" {
			in = line == "## Options"
			found = found || in
			continue
		}
		if m := optionRow.FindStringSubmatch(line); in && m != nil {
			rows = append(rows, m[1])
		}
	}
	require.NoError(t, sc.Err())
	require.True(t, found, "%s has no \"## Options\" heading", file)
	return rows
}

// without returns the names in a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
