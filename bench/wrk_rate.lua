-- wrk script for bench/http.sh: each connection waits GAP_MS after an
-- answer before its next request, so that CONNS connections send about
-- CONNS * 1000 / (GAP_MS + response time) requests per second. wrk has no
-- open-loop mode (wrk2, which has, is not packaged in Debian): its
-- latencies are from each actual send, like blast's uncorrected figures.
--   wrk ... -s bench/wrk_rate.lua URL -- GAP_MS
local gap

init = function(args)
	gap = tonumber(args[1]) or 1
end

delay = function()
	return gap
end
