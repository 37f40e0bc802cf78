-- A plain GET; headers (Host, X-Forwarded-Proto, Authorization, If-None-Match) come from -H.
dofile("benchmarks/wrk/report.lua")
