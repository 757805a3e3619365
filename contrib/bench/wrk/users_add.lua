-- contrib/bench/wrk/users_add.lua — POST /users/add with a username never
-- used before ("u<tag>-<thread>-<n>"); expects 201 {"id":...}.
-- Parameters (environment, see common.lua): BENCH_TAG.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
request = bench.users_add()
bench.install(bench.created)
