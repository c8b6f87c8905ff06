-- Headers over the limits: 3000 headers (the milter keeps 1000) and a
-- forged reference header after all of them. The message is still
-- marked, the forged header still replaced. (miltertest cannot send a
-- header value over 1 kB: the runner sends huge ones with milter_client.)
dofile(dir .. "/common.lua")
conn = open()
headers = { { "From", "alice@cust1.test.invalid" } }
for i = 1, 3000 do
	headers[#headers + 1] = { "X-Filler-" .. i, "value " .. i }
end
headers[#headers + 1] = { "X-Long", string.rep("x", 900) }
headers[#headers + 1] = { "x-fbld-ref", "forged-at-the-end" }
r = deliver(conn, {
	login = "alice",
	from = "alice@cust1.test.invalid",
	rcpts = { "bob@remote.test.invalid" },
	headers = headers,
})
check(r == SMFIR_CONTINUE, "message over the header limits not continued")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Fbld-Ref"),
      "forged reference past the limit kept")
tok = mt.getheader(conn, "X-Fbld-Ref", 0)
check(tok ~= nil and string.match(tok, TOKEN), "not marked")
mt.disconnect(conn)
