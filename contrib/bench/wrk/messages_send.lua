-- contrib/bench/wrk/messages_send.lua — the builder messages_send of common.lua, as
-- BENCH_CALLER with its token from BENCH_TOKENS; expects bench.done.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
function init(args)
	request = bench.messages_send()
end
bench.install(bench.done)
