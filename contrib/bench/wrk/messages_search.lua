-- contrib/bench/wrk/messages_search.lua — POST /messages/search
-- {"query": BENCH_QUERY} as BENCH_CALLER with its token from BENCH_TOKENS:
-- the newest 50 matches in the caller's chats; expects 200 [...].
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
function init(args)
	request = bench.fixed("/messages/search",
		string.format('{"query":"%s"}', bench.getenv("BENCH_QUERY")))
end
bench.install(bench.listed)
