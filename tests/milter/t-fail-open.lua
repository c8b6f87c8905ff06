-- The store cannot be opened: mail flows unchanged (fail_open = yes).
dofile(dir .. "/common.lua")
conn = open()
r = deliver(conn, {
	login = "alice",
	from = "alice@cust1.test.invalid",
	rcpts = { "bob@remote.test.invalid" },
	headers = { { "From", "alice@cust1.test.invalid" } },
})
check(r == SMFIR_ACCEPT, "not accepted unchanged with the store down")
check(not mt.eom_check(conn, MT_HDRADD), "headers added without a store")
mt.disconnect(conn)
