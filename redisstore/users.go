package redisstore

// This file holds the per-user operations of sessions.UserStore: listing a
// user's sessions and deleting them all, through the user's index.

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// UserSessions returns the ids of userID's live sessions. Index entries
// whose session has expired, or now belongs to someone else, are removed
// on the way. If the GET of any session fails (other than finding no
// key), it returns that error and removes nothing.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	uk := s.userKey(userID)
	ids, err := s.rdb.ZRange(ctx, uk, 0, -1).Result()
	if err != nil {
		return nil, wrap("zrange", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.Get(ctx, s.key(id))
	}
	// Exec reports only the first command's error, and a missing key
	// (redis.Nil) there can hide a failed GET behind it: each command's
	// own error decides.
	pipe.Exec(ctx)
	var live, dead []string
	for i, c := range cmds {
		v, err := c.Result()
		switch {
		case errors.Is(err, redis.Nil):
			dead = append(dead, ids[i])
		case err != nil:
			// A failed GET says nothing about the session: dropping
			// its index entry would hide a live session from
			// DeleteUser.
			return nil, wrap("get", err)
		case owner(v) == userID:
			live = append(live, ids[i])
		default:
			dead = append(dead, ids[i])
		}
	}
	if len(dead) > 0 {
		if err := s.rdb.ZRem(ctx, uk, dead).Err(); err != nil {
			return nil, wrap("zrem", err)
		}
	}
	return live, nil
}

// delIfOwner deletes a session key if its value belongs to ARGV[1]. One
// key: cluster-safe.
const delIfOwner = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local c = string.find(v, ':', 1, true)
if not c then return 0 end
v = string.sub(v, c + 1)
c = string.find(v, ':', 1, true)
if not c then return 0 end
local n = tonumber(string.sub(v, 1, c - 1))
if n and string.sub(v, c + 1, c + n) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`

// DeleteUser deletes every session in userID's index (if it is still that
// user's), then removes those members from the index: a failure at any
// point leaves each session deleted or still indexed, so a retry finishes
// the job, and the index keeps its TTL.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	uk := s.userKey(userID)
	ids, err := s.rdb.ZRange(ctx, uk, 0, -1).Result()
	if err != nil {
		return wrap("zrange", err)
	}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 256)]
		ids = ids[len(batch):]
		pipe := s.rdb.Pipeline()
		for _, id := range batch {
			pipe.Eval(ctx, delIfOwner, []string{s.key(id)}, userID)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return wrap("del", err)
		}
		if err := s.rdb.ZRem(ctx, uk, batch).Err(); err != nil {
			return wrap("zrem", err)
		}
	}
	return nil
}
