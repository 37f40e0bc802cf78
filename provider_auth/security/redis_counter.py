"""An exact counter shared by every worker and host, on Redis, in one round trip.

One server-side script (EVALSHA) adds one and, when that created the key, gives it its lifetime:
atomic on the server (a script runs alone), so no key is ever left without an expiry. The client
is RedisCache's own (same connection pool, same key prefix and integer encoding, so `cache.get()`
reads a count back).

Why the command goes to a pooled connection directly: the tariff API counts every poll, 304s
included, and redis-py's command path around that one EVALSHA (retry wrapper, observability
hooks, command callbacks) cost as much of our CPU as the round trip itself (about 45 of 95 µs
per call; `benchmarks/notes.md`, "The published-prices 304: decoding, building and counting a
poll"). Anything other than a count — the server has lost the script (restart, SCRIPT FLUSH)
or the connection failed — is handed to redis-py's full path, which loads the script or
reconnects and retries as for any command.
"""

from __future__ import annotations

import weakref
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

_INCR_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""

# One registered script per RedisCache client (per cache connection of a thread): building a
# redis-py client costs ~0.3 ms of CPU (its command table), and RedisCache builds one per call.
_scripts: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _script(backend: Any) -> Any:
    # `_cache` is RedisCache's RedisCacheClient; its write client is the primary's.
    cache_client = backend._cache
    script = _scripts.get(cache_client)
    if script is None:
        client = cache_client.get_client(write=True)
        script = _scripts[cache_client] = client.register_script(_INCR_LUA)
    return script


def redis_counter_incr(backend: Any, *, key: str, timeout: int) -> int:
    """Add one to `key` (already made by the backend: prefixed and validated) on the Redis
    cache `backend`, creating it with `timeout` seconds to live; the new count."""
    script = _script(backend)
    pool = script.registered_client.connection_pool
    connection = pool.get_connection()
    try:
        connection.send_command("EVALSHA", script.sha, 1, key, timeout)
        # A failed read drops the connection before it goes back to the pool.
        return int(connection.read_response())
    except NoScriptError:
        pass  # not run: the full path loads the script and runs it
    except (RedisConnectionError, RedisTimeoutError):
        # A connection the server closed while pooled; the full path reconnects and retries,
        # as redis-py does for any command.
        connection.disconnect()
    finally:
        pool.release(connection)
    return int(script(keys=[key], args=[timeout]))
