-- An authenticated message: the milter asks for the envelope sender change
-- (which miltertest cannot show: tests/lib/milter_client checks it),
-- replaces the customer's reference header and Feedback-ID, adds its own
-- and the List-Unsubscribe pair, and lets the message go.
dofile(dir .. "/common.lua")
conn = open()
check(mt.test_action(conn, SMFIF_CHGFROM), "CHGFROM not negotiated")
check(mt.test_action(conn, SMFIF_ADDHDRS), "ADDHDRS not negotiated")
check(mt.test_action(conn, SMFIF_CHGHDRS), "CHGHDRS not negotiated")
check(mt.test_action(conn, SMFIF_QUARANTINE), "QUARANTINE not negotiated")
r = deliver(conn, {
	login = "alice",
	from = "alice@cust1.test.invalid",
	rcpts = { "bob@remote.test.invalid" },
	headers = {
		{ "From", "Alice <alice@cust1.test.invalid>" },
		{ "Subject", "hello" },
		{ "X-Fbld-Ref", "forged-by-the-customer" },
		{ "Feedback-ID", "1:someone:else" },
	},
})
check(r == SMFIR_CONTINUE, "end of message not continued")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Fbld-Ref"), "forged X-Fbld-Ref kept")
check(mt.eom_check(conn, MT_HDRDELETE, "Feedback-ID"), "forged Feedback-ID kept")
tok = mt.getheader(conn, "X-Fbld-Ref", 0)
check(tok ~= nil and string.match(tok, TOKEN), "X-Fbld-Ref is not a token")
fid = mt.getheader(conn, "Feedback-ID", 0)
check(fid ~= nil and string.match(fid, "^%d+:alice:fbldmta$"),
      "Feedback-ID: " .. tostring(fid))
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe",
		   "<https://t.test.invalid/u/" .. tok .. ">"),
      "List-Unsubscribe")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe-Post",
		   "List-Unsubscribe=One-Click"), "List-Unsubscribe-Post")
check(not mt.eom_check(conn, MT_BODYCHANGE), "body changed")
check(not mt.eom_check(conn, MT_QUARANTINE), "quarantined")
-- A second message on the same connection gets its own token.
r = deliver(conn, {
	login = "alice",
	from = "alice@cust1.test.invalid",
	rcpts = { "carol@remote.test.invalid" },
	headers = {
		{ "From", "alice@cust1.test.invalid" },
		{ "List-Unsubscribe", "<mailto:unsub@cust1.test.invalid>" },
	},
})
check(r == SMFIR_CONTINUE, "second message")
tok2 = mt.getheader(conn, "X-Fbld-Ref", 0)
check(tok2 ~= nil and tok2 ~= tok, "second message reused the token")
check(not mt.eom_check(conn, MT_HDRDELETE), "nothing to delete")
-- The customer's own List-Unsubscribe stays, alone.
check(not mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe"),
      "List-Unsubscribe added beside the customer's")
check(not mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe-Post"),
      "List-Unsubscribe-Post added beside the customer's")
mt.disconnect(conn)
