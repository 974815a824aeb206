package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts. Each touches exactly one key (KEYS[1]), so each runs
// on the node that owns that key's slot in a Cluster, and each is atomic:
// Redis runs a script to completion before any other command.
//
// Times are integer milliseconds since the Unix epoch (about 4.1e12 in
// 2100, exact in Lua's doubles, which are exact up to 2^53). Numbers are
// written back with string.format('%.0f') so that Lua never turns them
// into exponent notation.
//
// A session is a HASH with the fields of record.go; 'cur' (the current
// refresh hash) is present in every session and marks existence.

// createLua stores a new session unless the key exists.
// KEYS[1] session key; ARGV[1] expire-at ms; ARGV[2..] field, value pairs.
// Returns 1 if created, 0 if the id was taken.
const createLua = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
`

// rotateLua is session.Store.Rotate, in the contract's order of checks.
// KEYS[1] session key; ARGV: [1] presented hash, [2] next hash, [3] now ms,
// [4] grace ms, [5] idle timeout ms, [6] identity JSON, [7] subject,
// [8] tombstone ms, [9] source secret (empty keeps the stored one).
// Returns {'notfound'}, {'revoked'}, {'expired'} or {'reused'} (the
// session revoked in the same step), or {'rotated' | 'reissued',
// field, value, ...} with the record after the operation.
//
// The hashes are compared with Lua's ==, which is not constant-time. That
// is safe here: the operands are SHA-256 hashes of 256-bit random tokens
// (session.HashRefreshToken), so what timing could reveal — how long a
// prefix of the stored hash the attacker's hash shares — says nothing
// about any token (finding a token for a hash prefix is a preimage
// search). The constant-time requirement protects the tokens, which never
// reach Redis.
const rotateLua = `
local key = KEYS[1]
local f = redis.call('HMGET', key, 'cur', 'rev', 'idle', 'exp', 'prev', 'prevuntil')
local cur, revoked, idle, exp, prev, prevuntil = f[1], f[2], tonumber(f[3]), tonumber(f[4]), f[5], tonumber(f[6])
if not cur then return {'notfound'} end
if revoked == '1' then return {'revoked'} end
local now = tonumber(ARGV[3])
if now >= math.min(idle, exp) then return {'expired'} end
local presented, nxt = ARGV[1], ARGV[2]
local function record(outcome)
  local r = redis.call('HGETALL', key)
  table.insert(r, 1, outcome)
  return r
end
if presented ~= '' and presented == cur then
  local newidle = math.min(now + tonumber(ARGV[5]), exp)
  redis.call('HSET', key,
    'prev', cur,
    'prevuntil', string.format('%.0f', now + tonumber(ARGV[4])),
    'cur', nxt,
    'refreshed', ARGV[3],
    'idle', string.format('%.0f', newidle),
    'ident', ARGV[6],
    'sub', ARGV[7])
  if ARGV[9] ~= '' then redis.call('HSET', key, 'ssec', ARGV[9]) end
  -- newidle <= exp, so newidle is the new deadline.
  redis.call('PEXPIREAT', key, string.format('%.0f', newidle + tonumber(ARGV[8])))
  return record('rotated')
end
if presented ~= '' and prev and presented == prev and now < prevuntil and nxt == cur then
  return record('reissued')
end
redis.call('HSET', key, 'rev', '1')
return {'reused'}
`

// revokeLua marks a session revoked. KEYS[1] session key; ARGV[1] '1' to
// require that the session belongs to subject ARGV[2], '0' for any.
// Returns 1 if it revoked the session, 0 if it was revoked already, -1 if
// there is no such session, -2 if it belongs to another subject. It never
// creates a key (a bare HSET would, without a TTL).
const revokeLua = `
local f = redis.call('HMGET', KEYS[1], 'cur', 'rev', 'sub')
if not f[1] then return -1 end
if ARGV[1] == '1' and f[3] ~= ARGV[2] then return -2 end
if f[2] == '1' then return 0 end
redis.call('HSET', KEYS[1], 'rev', '1')
return 1
`

// indexLua adds a session to its subject's index: a sorted set of session
// ids scored by when each may be forgotten (its deadline plus the
// tombstone time). Entries whose time has passed are dropped, and the key
// expires with its last entry.
// KEYS[1] index key; ARGV[1] session id; ARGV[2] forget-at ms; ARGV[3] now ms.
const indexLua = `
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
return 1
`

// addRevocationLua records a revocation and announces it.
// KEYS[1] revocation set; ARGV[1] member; ARGV[2] until ms; ARGV[3] now ms;
// ARGV[4] channel; ARGV[5] message.
// The sorted set is scored by Until: expired entries are dropped, a
// repeated entry keeps its later Until, and the key expires with its last
// entry. PUBLISH inside the script makes "stored, then announced" one
// step; in a Cluster it reaches the subscribers of every node.
const addRevocationLua = `
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`

// scripts are the Store's Lua scripts. redis.Script runs EVALSHA and falls
// back to EVAL when the server does not have the script (NOSCRIPT: a
// restarted server, a new Cluster node).
type scripts struct {
	create, rotate, revoke, index, addRevocation *redis.Script
}

func newScripts() scripts {
	return scripts{
		create:        redis.NewScript(createLua),
		rotate:        redis.NewScript(rotateLua),
		revoke:        redis.NewScript(revokeLua),
		index:         redis.NewScript(indexLua),
		addRevocation: redis.NewScript(addRevocationLua),
	}
}
