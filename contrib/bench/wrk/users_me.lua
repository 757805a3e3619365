-- contrib/bench/wrk/users_me.lua — the builder users_me of common.lua, as
-- BENCH_CALLER with its token from BENCH_TOKENS; expects bench.done.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
function init(args)
	request = bench.users_me()
end
bench.install(bench.done)
