-- wrk script for bench/http.sh: DEPTH requests written back to back on
-- each connection (HTTP/1.1 pipelining), the next DEPTH once all their
-- answers are in. wrk counts each answer as one request.
--   wrk ... -s bench/wrk_pipeline.lua URL -- DEPTH
local batch

init = function(args)
	local depth = tonumber(args[1]) or 16
	local r = {}
	for i = 1, depth do
		r[i] = wrk.format()
	end
	batch = table.concat(r)
end

request = function()
	return batch
end
