-- contrib/bench/wrk/mix.lua — reads outnumber writes. Each request is one
-- of common.lua's builders, drawn at random with the weights of BENCH_MIX:
-- "BUILDER@WEIGHT ..." (contrib/bench/run passes its MIX_WEIGHTS, which
-- pgbench gets too), by default
--   messages_get_page@45   one page (random chat, random "after")
--   chats_get@35           a random user's chats
--   messages_add@15        to the writer chats, as messages_add.lua
--   chats_add@3            as chats_add.lua
--   users_add@2            as users_add.lua
-- An add must answer 201 {"id":...}, a get 200 [...]. Parameters: BENCH_MIX
-- and those of the builders it names (see common.lua).
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local spec = bench.getenv("BENCH_MIX",
	"messages_get_page@45 chats_get@35 messages_add@15 chats_add@3 users_add@2")
local choices, total = {}, 0
for name, weight in spec:gmatch("([%w_]+)@(%d+)") do
	local builder = bench.builders[name]
	if builder == nil then
		error("contrib/bench/wrk/mix.lua: no builder " .. name .. " in BENCH_MIX")
	end
	total = total + tonumber(weight)
	table.insert(choices, {tonumber(weight), builder()})
end
if total == 0 then error("contrib/bench/wrk/mix.lua: BENCH_MIX has no NAME@WEIGHT") end

function request()
	local x = math.random(1, total)
	for _, c in ipairs(choices) do
		if x <= c[1] then return c[2]() end
		x = x - c[1]
	end
end

bench.install(function(status, body)
	return bench.created(status, body) or bench.listed(status, body)
end)
