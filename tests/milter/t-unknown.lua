-- No account can be found: the message passes untouched (unknown = accept).
dofile(dir .. "/common.lua")
conn = open()
r = deliver(conn, {
	from = "someone@nowhere.test.invalid",
	rcpts = { "bob@remote.test.invalid" },
	headers = { { "From", "someone@nowhere.test.invalid" } },
})
check(r == SMFIR_ACCEPT, "unknown sender not accepted as it is")
check(not mt.eom_check(conn, MT_HDRADD), "headers added")
check(not mt.eom_check(conn, MT_HDRDELETE), "headers deleted")
mt.disconnect(conn)
