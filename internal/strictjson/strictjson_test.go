package strictjson

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSyntaxErrorMessage(t *testing.T) {
	_, err := DecodeObject([]byte(`{"a":1,"a":2}`))
	assert.EqualError(t, err, "strictjson: duplicate key in JSON object at byte offset 7")
}
