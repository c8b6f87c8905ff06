-- tests/milter/common.lua: shared by the miltertest scripts (dofile'd).
-- The runner (tests/integration/milter.sh) defines `socket` and `dir`.

-- miltertest prints nothing when a script dies: say why first.
function check(cond, what)
	if not cond then
		mt.echo("FAIL: " .. what)
		error("FAIL: " .. what)
	end
end

-- Connects and negotiates with the defaults of libmilter's mfdef.h.
function open()
	local conn = mt.connect(socket, 40, 0.25)
	check(conn ~= nil, "cannot connect to " .. socket)
	check(mt.negotiate(conn, nil, nil, nil) == nil, "negotiation")
	check(mt.conninfo(conn, "client.test.invalid", "127.0.0.1") == nil,
	      "conninfo")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "connect refused")
	return conn
end

-- Sends one message up to, not including, end of message:
-- m = { login = "alice" or nil, from = "a@b", rcpts = { ... },
--       headers = { { "Name", "value" }, ... }, body = "..." }
-- Returns the reply to MAIL when the message stopped there, else nil.
function send(conn, m)
	-- Always sent, as Postfix does: libmilter keeps a stage's macros
	-- until they are sent again.
	mt.macro(conn, SMFIC_MAIL, "{auth_authen}", m.login or "")
	check(mt.mailfrom(conn, "<" .. m.from .. ">") == nil, "MAIL")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		return mt.getreply(conn)
	end
	for _, r in ipairs(m.rcpts) do
		check(mt.rcptto(conn, "<" .. r .. ">") == nil, "RCPT " .. r)
	end
	if not mt.test_option(conn, SMFIP_NODATA) then
		check(mt.data(conn) == nil, "DATA")
	end
	for _, h in ipairs(m.headers or {}) do
		check(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
	end
	if not mt.test_option(conn, SMFIP_NOEOH) then
		check(mt.eoh(conn) == nil, "EOH")
	end
	check(mt.bodystring(conn, m.body or "Hello.\r\n") == nil, "body")
	return nil
end

-- Runs the message to its end and returns the final reply.
function deliver(conn, m)
	local r = send(conn, m)
	if r ~= nil then
		return r
	end
	check(mt.eom(conn) == nil, "EOM")
	return mt.getreply(conn)
end

TOKEN = "^" .. string.rep("[a-z2-7]", 40) .. "$"
