package benchmarks

import "testing"

// storeImpls returns this module's store modes under test.
func storeImpls(tb testing.TB) []impl {
	return nil
}
