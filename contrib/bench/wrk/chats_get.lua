-- contrib/bench/wrk/chats_get.lua — POST /chats/get of a random user of
-- USER_LO..USER_HI; expects 200 [...]. The runner's chats_get_big and
-- chats_get_small rows use one user (LO = HI): BIG_USER, SMALL_USER.
-- Parameters (environment, see common.lua): BENCH_USER_LO, BENCH_USER_HI.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
request = bench.chats_get()
bench.install(bench.listed)
