-- An account with open and click tracking: an HTML message gets its body
-- replaced; one with broken MIME is marked but its body is left alone.
dofile(dir .. "/common.lua")
conn = open()
html = "<html><body><p>Hello <a href=\"https://shop.test.invalid/\">" ..
       "shop</a></p></body></html>\r\n"
r = deliver(conn, {
	login = "tracker",
	from = "t@cust1.test.invalid",
	rcpts = { "bob@remote.test.invalid" },
	headers = {
		{ "From", "t@cust1.test.invalid" },
		{ "MIME-Version", "1.0" },
		{ "Content-Type", "text/html; charset=utf-8" },
	},
	body = html,
})
check(r == SMFIR_CONTINUE, "HTML message not continued")
check(mt.eom_check(conn, MT_BODYCHANGE), "HTML body not rewritten")

r = deliver(conn, {
	login = "tracker",
	from = "t@cust1.test.invalid",
	rcpts = { "bob@remote.test.invalid" },
	headers = {
		{ "From", "t@cust1.test.invalid" },
		{ "MIME-Version", "1.0" },
		{ "Content-Type", "multipart/alternative; boundary=\"b1\"" },
	},
	-- Never closed, and the HTML part has no end.
	body = "--b1\r\nContent-Type: text/html\r\n\r\n" .. html,
})
check(r == SMFIR_CONTINUE, "broken MIME not delivered")
check(not mt.eom_check(conn, MT_BODYCHANGE), "broken MIME rewritten")
tok = mt.getheader(conn, "X-Fbld-Ref", 0)
check(tok ~= nil and string.match(tok, TOKEN), "broken MIME not marked")
mt.disconnect(conn)
