-- contrib/bench/wrk/auth_sessions.lua — the builder auth_sessions of common.lua, as
-- BENCH_CALLER with its token from BENCH_TOKENS; expects bench.listed.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
function init(args)
	request = bench.auth_sessions()
end
bench.install(bench.listed)
