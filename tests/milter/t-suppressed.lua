-- A recipient on the account's suppression list is dropped; the others
-- get the message.
dofile(dir .. "/common.lua")
conn = open()
r = deliver(conn, {
	login = "alice",
	from = "alice@cust1.test.invalid",
	rcpts = { "keep@remote.test.invalid", "gone@remote.test.invalid" },
	headers = { { "From", "alice@cust1.test.invalid" } },
})
check(r == SMFIR_CONTINUE, "message not continued")
check(mt.eom_check(conn, MT_RCPTDELETE, "<gone@remote.test.invalid>"),
      "suppressed recipient kept")
check(not mt.eom_check(conn, MT_RCPTDELETE, "<keep@remote.test.invalid>"),
      "recipient dropped")
mt.disconnect(conn)
