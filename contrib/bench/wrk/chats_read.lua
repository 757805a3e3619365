-- contrib/bench/wrk/chats_read.lua — the builder chats_read of common.lua, as
-- BENCH_CALLER with its token from BENCH_TOKENS; expects bench.done.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
function init(args)
	request = bench.chats_read()
end
bench.install(bench.done)
