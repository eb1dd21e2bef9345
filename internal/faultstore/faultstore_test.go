package faultstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/internal/faultstore"
)

func record(id, user string) sessions.Record {
	return sessions.Record{ID: id, Data: []byte(`{}`), TTL: time.Hour, UserID: user}
}

func TestPassesThroughAndCounts(t *testing.T) {
	ctx := context.Background()
	st := faultstore.NewMem(t)
	require.NoError(t, st.Create(ctx, record("a", "alice")))
	require.NoError(t, st.Create(ctx, record("b", "")))
	require.ErrorIs(t, st.Create(ctx, record("a", "")), sessions.ErrExists)
	b := record("b", "")
	b.Version = 1
	found, err := st.Update(ctx, b)
	require.NoError(t, err)
	assert.True(t, found)
	rec, found, err := st.Find(ctx, "a")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, `{}`, string(rec.Data))
	ids, err := st.UserSessions(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, ids)
	require.NoError(t, st.Delete(ctx, "b"))

	assert.Equal(t, 3, st.Count(faultstore.Create), "failed calls count too")
	assert.Equal(t, 1, st.Count(faultstore.Update))
	assert.Equal(t, []string{"a", "b"}, st.CreatedIDs(), "successful Creates only")
	live, err := st.Live(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, live)
	st.ForgetCreated()
	assert.Empty(t, st.Created())
}

func TestFail(t *testing.T) {
	ctx := context.Background()
	st := faultstore.NewMem(t)
	boom := errors.New("boom")
	st.Fail(faultstore.Create, boom)
	require.ErrorIs(t, st.Create(ctx, record("a", "")), boom)
	require.ErrorIs(t, st.Create(ctx, record("a", "")), boom, "Fail lasts")
	st.Fail(faultstore.Create, nil)
	require.NoError(t, st.Create(ctx, record("a", "")))
	_, found, _ := st.Inner().Find(ctx, "a")
	assert.True(t, found)

	st.FailOnce(faultstore.Delete, faultstore.ErrInjected)
	require.ErrorIs(t, st.Delete(ctx, "a"), faultstore.ErrInjected)
	_, found, _ = st.Find(ctx, "a")
	assert.True(t, found, "a failed Delete reached the store")
	require.NoError(t, st.Delete(ctx, "a"), "FailOnce fails once")
}

func TestBlock(t *testing.T) {
	ctx := context.Background()
	st := faultstore.NewMem(t)
	gate := st.Block(faultstore.Create)
	done := make(chan error)
	go func() { done <- st.Create(ctx, record("a", "")) }()
	<-gate.Entered
	_, found, err := st.Inner().Find(ctx, "a")
	require.NoError(t, err)
	assert.False(t, found, "a blocked Create reached the store")
	gate.Release()
	require.NoError(t, <-done)
	require.NoError(t, st.Create(ctx, record("b", "")), "Block holds the next call only")
}

func TestPlain(t *testing.T) {
	st := faultstore.NewMem(t)
	_, isUserStore := st.Plain().(sessions.UserStore)
	assert.False(t, isUserStore)
	require.NoError(t, st.Plain().Create(context.Background(), record("a", "")))
	assert.Equal(t, []string{"a"}, st.CreatedIDs())

	notUser := faultstore.New(st.Plain())
	_, err := notUser.UserSessions(context.Background(), "alice")
	require.ErrorIs(t, err, sessions.ErrNotSupported)
	require.ErrorIs(t, notUser.DeleteUser(context.Background(), "alice"), sessions.ErrNotSupported)
}
