-- contrib/bench/wrk/chats_add.lua — POST /chats/add with a name never used
-- before and three random existing users; expects 201 {"id":...}.
-- Parameters (environment, see common.lua): BENCH_TAG, BENCH_MEMBER_LO,
-- BENCH_MEMBER_HI.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
request = bench.chats_add()
bench.install(bench.created)
