-- contrib/bench/wrk/messages_add.lua — POST /messages/add, without an
-- Idempotency-Key, of a ~60-character text (ASCII and UTF-8) by author
-- USER0 + r to chat CHAT0 + r, r random in 0..WRITERS-1; expects 201.
-- One chat: WRITERS=1. Parameters (environment, see common.lua):
-- BENCH_CHAT0, BENCH_USER0, BENCH_WRITERS.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
request = bench.messages_add()
bench.install(bench.created)
