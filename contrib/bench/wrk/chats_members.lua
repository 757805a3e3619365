-- contrib/bench/wrk/chats_members.lua — the builder chats_members of common.lua, as
-- BENCH_CALLER with its token from BENCH_TOKENS; expects bench.listed.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
function init(args)
	request = bench.chats_members()
end
bench.install(bench.listed)
