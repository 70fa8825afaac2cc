-- checkin.lua — wrk script for the check-in benchmark: every request is
-- GET /api/v1/device/checkin as a different device, round-robin over a file
-- of device tokens (one per line, written by fp_enroll).
--
-- usage: wrk -tT -cC -dD -s bench/checkin.lua URL -- TOKEN_FILE T [PAUSE_MS]
-- wrk runs this script in one Lua state per thread. setup() (main state)
-- numbers the threads; init() (thread state) loads the tokens and starts
-- thread k at k * (n / T), so the threads walk disjoint stretches of the
-- fleet. The same script drives the nginx peer, so both sides pay the same
-- client-side Lua cost per request.
--
-- With PAUSE_MS, each connection waits that many milliseconds after every
-- answer before its next request (wrk's delay() hook), which paces the load
-- below the peak: wrk 4.1 has no rate option. wrk measures latency from the
-- moment a request is sent, so the pause is not counted in it. PAUSE_MS 0
-- means no pause.


local next_id = 0

function setup(thread)
	thread:set("id", next_id)
	next_id = next_id + 1
end

function init(args)
	local path, nthreads = args[1], tonumber(args[2] or "1")
	if not path then
		error("checkin.lua: pass the token file after --")
	end
	tokens = {}
	for line in io.lines(path) do
		if #line > 0 then
			tokens[#tokens + 1] = "Bearer " .. line
		end
	end
	if #tokens == 0 then
		error("checkin.lua: no tokens in " .. path)
	end
	pos = (id or 0) * math.floor(#tokens / nthreads) % #tokens
	headers = {}
	local pause = tonumber(args[3] or "0")
	if pause > 0 then
		-- wrk looks for delay() after init(), in the first thread's state.
		delay = function()
			return pause
		end
	end
end

function request()
	pos = pos + 1
	if pos > #tokens then
		pos = 1
	end
	headers["Authorization"] = tokens[pos]
	return wrk.format("GET", "/api/v1/device/checkin", headers)
end
