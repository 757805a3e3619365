-- contrib/bench/wrk/login.lua — POST /auth/login as one account again and
-- again (a login storm); expects 200 {"id", "token", ...}. Parameters
-- (environment): BENCH_LOGIN_USER, BENCH_LOGIN_PASSWORD.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
local user, password = bench.getenv("BENCH_LOGIN_USER"), bench.getenv("BENCH_LOGIN_PASSWORD")

local req
function init(args)
	req = bench.post("/auth/login", '{"username":"' .. user ..
		'","password":"' .. password .. '"}')
end
function request()
	return req
end
bench.install(function(status, body)
	return status == 200 and body:find('"token"', 1, true) ~= nil
end)
