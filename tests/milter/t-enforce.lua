-- Account states at the SMTP door: a blocked SASL login is refused at MAIL
-- (check_at_mail = yes in the runner's configuration); accounts known by
-- their sender domain are refused (block, 550 5.7.1) or deferred
-- (throttle, 451 4.7.1) at end of message, unmodified.
dofile(dir .. "/common.lua")
conn = open()
r = deliver(conn, {
	login = "blocked",
	from = "x@cust1.test.invalid",
	rcpts = { "bob@remote.test.invalid" },
})
check(r == SMFIR_REPLYCODE, "blocked login not refused at MAIL")
mt.abort(conn)

r = deliver(conn, {
	from = "news@blocked.test.invalid",
	rcpts = { "bob@remote.test.invalid" },
	headers = { { "From", "news@blocked.test.invalid" } },
})
check(r == SMFIR_REPLYCODE, "blocked account not refused")
-- miltertest compares the whole reply: code, enhanced code and text.
check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
		   "Sending from this account is blocked; contact your provider"),
      "not 550 5.7.1")
check(not mt.eom_check(conn, MT_HDRADD), "headers added to a refused message")

r = deliver(conn, {
	from = "news@slow.test.invalid",
	rcpts = { "bob@remote.test.invalid" },
	headers = { { "From", "news@slow.test.invalid" } },
})
check(r == SMFIR_REPLYCODE, "throttled account not deferred")
check(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.7.1",
		   "Sending from this account is temporarily limited; " ..
		   "try again later"), "not 451 4.7.1")
mt.disconnect(conn)
