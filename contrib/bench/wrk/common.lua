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
--   BENCH_TOKENS           a file of "ID TOKEN" lines (contrib/bench/tokens.c):
--                          when set, every request carries
--                          "Authorization: Bearer" with the token of the
--                          user it acts as (the author, the user whose chats
--                          it reads) or, for requests that name no user, of
--                          BENCH_CALLER; unset, requests carry none
--   BENCH_ALSO             chats/add names this user as well, a fourth
--                          member (the bearer table's request without a
--                          token, which so makes the chat that the
--                          caller's token makes with three)
--   BENCH_CALLER           the user a session endpoint acts as (its token
--                          comes from BENCH_TOKENS, which it then needs)
--   BENCH_PEER_LO, _HI     chats/direct, messages/send: the other user, at
--                          random among these; users/list: its "after"
--   BENCH_STATUS           users/list: its "status" (default all)
--   BENCH_CHAT             chats/members, chats/read, members add/remove:
--                          one chat of the caller
--   BENCH_MESSAGE_LO, _HI  chats/read: a message of BENCH_CHAT at random
--                          among these
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

-- The tokens of BENCH_TOKENS by user id, read once per thread; nil
-- without BENCH_TOKENS.
local tokens

local function load_tokens()
	local file = os.getenv("BENCH_TOKENS")
	if file == nil or file == "" then return nil end
	local t, f = {}, assert(io.open(file, "r"))
	for line in f:lines() do
		local id, token = line:match("^(%d+)%s+(%S+)$")
		if id then t[tonumber(id)] = token end
	end
	f:close()
	return t
end

-- post(PATH, BODY[, USER]): one POST request as wrk sends it (wrk.format
-- adds Content-Length and Host), with the bearer token of USER (default
-- BENCH_CALLER) when BENCH_TOKENS is set.
function M.post(path, body, user)
	if tokens == nil then tokens = load_tokens() or false end
	if not tokens then return wrk.format("POST", path, nil, body) end
	user = user or M.int("BENCH_CALLER")
	local token = tokens[user]
	if token == nil then error("contrib/bench/wrk: no token of user " .. user .. " in BENCH_TOKENS") end
	return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token}, body)
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
	local also = os.getenv("BENCH_ALSO")
	also = (also ~= nil and also ~= "") and string.format(',"%d"', M.int("BENCH_ALSO")) or ""
	return function()
		return M.post("/chats/add", string.format(
			'{"name":"c%s","users":["%d","%d","%d"%s]}', M.unique(),
			math.random(lo, hi), math.random(lo, hi), math.random(lo, hi), also))
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
			chat0 + r, user0 + r, counter, FILLER), user0 + r)
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
		local user = math.random(lo, hi)
		return M.post("/chats/get", string.format('{"user":"%d"}', user), user)
	end
end

-- The endpoints of sessions (issue 10): each acts as BENCH_CALLER.

function M.fixed(path, body)
	return function()
		return M.post(path, body)
	end
end

function M.users_me() return M.fixed("/users/me", "{}") end
function M.auth_sessions() return M.fixed("/auth/sessions", "{}") end

function M.users_list()
	local lo, hi = M.int("BENCH_PEER_LO"), M.int("BENCH_PEER_HI")
	local status = M.getenv("BENCH_STATUS", "all")
	return function()
		return M.post("/users/list", string.format('{"status":"%s","after":"%d","limit":100}',
			status, math.random(lo, hi)))
	end
end

function M.chats_direct()
	local lo, hi = M.int("BENCH_PEER_LO"), M.int("BENCH_PEER_HI")
	return function()
		return M.post("/chats/direct", string.format('{"user":"%d"}', math.random(lo, hi)))
	end
end

function M.messages_send()
	local lo, hi = M.int("BENCH_PEER_LO"), M.int("BENCH_PEER_HI")
	return function()
		counter = counter + 1
		return M.post("/messages/send", string.format('{"to":"%d","text":"%d %s"}',
			math.random(lo, hi), counter, FILLER))
	end
end

function M.chats_members()
	return M.fixed("/chats/members", string.format('{"chat":"%d"}', M.int("BENCH_CHAT")))
end

function M.chats_read()
	local chat = M.int("BENCH_CHAT")
	local lo, hi = M.int("BENCH_MESSAGE_LO"), M.int("BENCH_MESSAGE_HI")
	return function()
		return M.post("/chats/read", string.format('{"chat":"%d","message":"%d"}',
			chat, math.random(lo, hi)))
	end
end

-- members/add or members/remove (at random) of a random user of
-- PEER_LO..PEER_HI in BENCH_CHAT, owned by the caller: 204, or 404 for
-- removing a user who is not a member (see churned below).
function M.members_churn()
	local chat = M.int("BENCH_CHAT")
	local lo, hi = M.int("BENCH_PEER_LO"), M.int("BENCH_PEER_HI")
	return function()
		local path = math.random(0, 1) == 0 and "/chats/members/add" or "/chats/members/remove"
		return M.post(path, string.format('{"chat":"%d","user":"%d"}', chat, math.random(lo, hi)))
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

-- done(status, body): 204, or 200/201 with a JSON object
function M.done(status, body)
	return status == 204 or ((status == 200 or status == 201) and body:sub(1, 1) == "{")
end

-- churned(status, body): 204, or the 404 of removing a non-member
function M.churned(status, body)
	return status == 204 or (status == 404 and body:find("is not a member", 1, true) ~= nil)
end

-- install(CHECK): define wrk's setup, init, response and done. Without
-- CHECK, no response(): wrk then hands no body to Lua (a download of 25 MiB
-- would be copied into a Lua string), and an answer counts as failed when
-- its status is not 2xx or 3xx (wrk's own count, wrk_status).
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

	if check then
		function response(status, headers, body)
			statuses[status] = (statuses[status] or 0) + 1
			if not check(status, body or "") then bad = bad + 1 end
		end
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
			e.connect + e.read + e.write + e.timeout + (check and status or e.status),
			e.connect, e.read, e.write, e.timeout, status, e.status,
			#codes > 0 and table.concat(codes, ",") or "none"))
	end
end

return M
