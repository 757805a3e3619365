-- contrib/bench/wrk/common.lua — what the wrk scripts of contrib/bench/run
-- share: their parameters, the request builders of the five endpoints, the
-- check of every answer and the one result line.
--
-- A script loads it with
--   local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
-- sets the global request() to a builder (or its own function calling them)
-- and calls bench.install(CHECK), where CHECK(status, body) is true for an
-- answer that is what the request should get.
--
-- Parameters come from the environment (wrk's Lua has os.getenv), named like
-- the pgbench variables of contrib/bench/pgbench/*.sql, which draw the same
-- values the same way:
--   BENCH_TAG              text making this run's names unique (users/add,
--                          chats/add): names are "<tag>-<thread>-<counter>"
--   BENCH_USER_LO, _HI     existing users: chats/get picks one at random
--   BENCH_MEMBER_LO, _HI   existing users: chats/add picks three at random
--                          (repeats allowed; they count once). The runner
--                          keeps BIG_USER and SMALL_USER out of this range,
--                          so that their chat lists stay as loaded
--   BENCH_CHAT_LO, _HI     messages/get picks a chat at random among these
--   BENCH_AFTER_LO, _HI    ... and its "after" at random among these
--   BENCH_LIMIT            ... and asks for this many (default 100)
--   BENCH_CHAT0, BENCH_USER0, BENCH_WRITERS
--                          messages/add: r = random 0..WRITERS-1, chat
--                          CHAT0 + r, author USER0 + r (the runner makes
--                          every such author a member of its chat)
-- Only the variables a script's builders use need to be set; a missing one
-- stops wrk with an error naming it.
--
-- The result: done() prints one line to stdout,
--   @wrk requests=N duration_s=S rps=R p50_ms=A p99_ms=B mean_ms=M errors=E
--        connect=.. read=.. write=.. timeout=.. status=.. wrk_status=..
--        statuses=CODE:COUNT,...
-- where status counts answers that failed CHECK (a wrong status or a body
-- of the wrong shape), wrk_status wrk's own count of non-2xx/3xx answers,
-- and errors = connect + read + write + timeout + status.

local M = {}

-- getenv(NAME[, DEFAULT]): the variable's value; an error if it is unset
-- and there is no DEFAULT.
function M.getenv(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then
		if default == nil then
			error("contrib/bench/wrk: environment variable " .. name .. " is not set")
		end
		return default
	end
	return v
end

-- int(NAME[, DEFAULT]): the variable as an integer.
function M.int(name, default)
	local v = M.getenv(name, default and tostring(default))
	local n = tonumber(v)
	if n == nil or n ~= math.floor(n) then
		error("contrib/bench/wrk: " .. name .. "=" .. v .. " is not an integer")
	end
	return n
end

-- post(PATH, BODY): one POST request as wrk sends it (wrk.format adds
-- Content-Length and Host).
function M.post(path, body)
	return wrk.format("POST", path, nil, body)
end

-- Per thread: the thread's number (set by setup) and a counter, so that
-- unique() is unique across threads and calls.
local counter = 0

-- unique(): "<tag>-<thread>-<counter>", never twice in a run.
function M.unique()
	counter = counter + 1
	return string.format("%s-%d-%d", M.getenv("BENCH_TAG"), tid or 0, counter)
end

-- 54 code points of mixed ASCII and UTF-8 (2-, 3- and 4-byte characters),
-- without characters that JSON would need to escape; with the counter in
-- front a text is about 60. pgbench sends "12345 " and the same (the
-- runner's MSG_TEXT).
local FILLER = "héllo wörld — ünïcode ✓ 日本語 ok, see you at 10? 👍 ça va"

-- Builders: each returns a function that makes one request of its endpoint.
-- They read their parameters once, when called (in init, per thread).

function M.users_add()
	return function()
		return M.post("/users/add", string.format('{"username":"u%s"}', M.unique()))
	end
end

function M.chats_add()
	local lo, hi = M.int("BENCH_MEMBER_LO"), M.int("BENCH_MEMBER_HI")
	return function()
		return M.post("/chats/add", string.format(
			'{"name":"c%s","users":["%d","%d","%d"]}', M.unique(),
			math.random(lo, hi), math.random(lo, hi), math.random(lo, hi)))
	end
end

function M.messages_add()
	local chat0, user0 = M.int("BENCH_CHAT0"), M.int("BENCH_USER0")
	local writers = M.int("BENCH_WRITERS")
	return function()
		local r = math.random(0, writers - 1)
		counter = counter + 1
		return M.post("/messages/add", string.format(
			'{"chat":"%d","author":"%d","text":"%d %s"}',
			chat0 + r, user0 + r, counter, FILLER))
	end
end

function M.messages_get_page()
	local clo, chi = M.int("BENCH_CHAT_LO"), M.int("BENCH_CHAT_HI")
	local alo, ahi = M.int("BENCH_AFTER_LO"), M.int("BENCH_AFTER_HI")
	local limit = M.int("BENCH_LIMIT", 100)
	return function()
		return M.post("/messages/get", string.format(
			'{"chat":"%d","after":"%d","limit":%d}',
			math.random(clo, chi), math.random(alo, ahi), limit))
	end
end

function M.chats_get()
	local lo, hi = M.int("BENCH_USER_LO"), M.int("BENCH_USER_HI")
	return function()
		return M.post("/chats/get", string.format('{"user":"%d"}', math.random(lo, hi)))
	end
end

-- The builders by name (the names of the pgbench scripts, too).
M.builders = {
	users_add = M.users_add, chats_add = M.chats_add,
	messages_add = M.messages_add, messages_get_page = M.messages_get_page,
	chats_get = M.chats_get,
}

-- Checks for install().

-- created(status, body): 201 {"id":...}
function M.created(status, body)
	return status == 201 and body:sub(1, 6) == '{"id":'
end

-- listed(status, body): 200 [...]
function M.listed(status, body)
	return status == 200 and body:sub(1, 1) == "["
end

-- install(CHECK): define wrk's setup, init, response and done.
function M.install(check)
	local threads = {}

	function setup(thread)
		table.insert(threads, thread)
		thread:set("tid", #threads)
	end

	-- Each thread has its own Lua state, seeded apart from the others.
	local user_init = init
	function init(args)
		math.randomseed(os.time() * 1000 + (tid or 0) * 7919 + math.floor(os.clock() * 1e6))
		bad, statuses = 0, {}
		if user_init then user_init(args) end
	end

	function response(status, headers, body)
		statuses[status] = (statuses[status] or 0) + 1
		if not check(status, body or "") then bad = bad + 1 end
	end

	function done(summary, latency, requests)
		local status, seen = 0, {}
		for _, t in ipairs(threads) do
			status = status + (t:get("bad") or 0)
			for code, n in pairs(t:get("statuses") or {}) do
				seen[code] = (seen[code] or 0) + n
			end
		end
		local codes = {}
		for code, n in pairs(seen) do table.insert(codes, string.format("%d:%d", code, n)) end
		table.sort(codes)
		local e = summary.errors
		local secs = summary.duration / 1e6
		io.write(string.format(
			"@wrk requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f mean_ms=%.3f "
			.. "errors=%d connect=%d read=%d write=%d timeout=%d status=%d wrk_status=%d statuses=%s\n",
			summary.requests, secs, summary.requests / secs,
			latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000,
			e.connect + e.read + e.write + e.timeout + status,
			e.connect, e.read, e.write, e.timeout, status, e.status,
			#codes > 0 and table.concat(codes, ",") or "none"))
	end
end

return M
