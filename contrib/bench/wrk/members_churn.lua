-- contrib/bench/wrk/members_churn.lua — members_churn of common.lua, as
-- BENCH_CALLER (the chat's owner) with its token from BENCH_TOKENS;
-- expects bench.churned (204, or 404 for removing a non-member).
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
function init(args)
	request = bench.members_churn()
end
bench.install(bench.churned)
