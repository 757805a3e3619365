-- contrib/bench/wrk/fixed.lua — the same request again and again, for the
-- ceilings: POST BENCH_PATH with body BENCH_BODY; an answer must have status
-- BENCH_EXPECT and a body containing the text BENCH_EXPECT_BODY.
-- contrib/bench/run uses it for nginx answering a constant (POST /constant,
-- 200 {"id":"1"}), for nginx -> the no-op libfcgi program (POST /noop, the
-- same answer) and for nginx -> chatd without the database (POST
-- /users/add {"username":""}, which chatd refuses with 400 naming the field
-- before it would query PostgreSQL; nginx's own 400 names no field).
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
local path, body = bench.getenv("BENCH_PATH"), bench.getenv("BENCH_BODY")
local code, text = bench.int("BENCH_EXPECT"), bench.getenv("BENCH_EXPECT_BODY")

-- Built once per thread, in init: wrk sets the Host header just before.
local req
function init(args)
	req = bench.post(path, body)
end
function request()
	return req
end

bench.install(function(status, b)
	return status == code and b:find(text, 1, true) ~= nil
end)
