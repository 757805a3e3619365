-- contrib/bench/wrk/users_list.lua — the builder users_list of common.lua, as
-- BENCH_CALLER with its token from BENCH_TOKENS; expects bench.listed.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
function init(args)
	request = bench.users_list()
end
bench.install(bench.listed)
