-- contrib/bench/wrk/files.lua — the files table of contrib/bench/run: the
-- same request again and again, BENCH_METHOD (POST, PUT or GET) of
-- BENCH_PATH, with the bytes of BENCH_FILE as the body when set, and
-- "Authorization: Bearer BENCH_TOKEN" when set. An upload (a body) must
-- be answered BENCH_EXPECT (201 from chatd; 201 or 204 from nginx's PUT,
-- which creates the file or replaces it); a download is not looked at by
-- Lua (its body would be copied into a string): it must be 2xx, by wrk's
-- own count.
--   POST /files/upload?name=...  chatd: the upload, a new file each time
--   PUT /put/NAME                nginx alone: the body to a temporary
--                                file, then renamed into place (DAV),
--                                a new file each time (run's /put/)
--   GET /files/ID/NAME           chatd: authorize, X-Accel-Redirect
--   GET /static/STORED           nginx alone: the same file, static
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
local method, path = bench.getenv("BENCH_METHOD"), bench.getenv("BENCH_PATH")
local file, token = os.getenv("BENCH_FILE"), os.getenv("BENCH_TOKEN")

-- Built once per thread, in init: the body is read once.
local req
function init(args)
	local headers, body = {}, nil
	if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
	if file and file ~= "" then
		local f = assert(io.open(file, "rb"))
		body = f:read("a")
		f:close()
	end
	req = wrk.format(method, path, headers, body)
end
function request()
	return req
end

if file and file ~= "" then
	local expect = bench.getenv("BENCH_EXPECT")
	bench.install(function(status, b)
		return tostring(status) == expect or (method == "PUT" and status == 204)
	end)
else
	bench.install(nil)
end
