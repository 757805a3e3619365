-- contrib/bench/wrk/messages_get_page.lua — POST /messages/get of one page:
-- a random chat of CHAT_LO..CHAT_HI, "after" random in AFTER_LO..AFTER_HI,
-- "limit" LIMIT (default 100); expects 200 [...]. The runner's own row
-- and its flatness rows use one chat (LO = HI) and an "after" range that
-- always leaves a full page. Parameters (environment, see common.lua):
-- BENCH_CHAT_LO, BENCH_CHAT_HI, BENCH_AFTER_LO, BENCH_AFTER_HI, BENCH_LIMIT.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
request = bench.messages_get_page()
bench.install(bench.listed)
