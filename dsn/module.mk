# dsn/: bounce (RFC 3464 and non-standard) and auto-reply classification.
LIB_SRCS += dsn/dsn.c dsn/msg.c dsn/text.c dsn/rfc3464.c dsn/reason.c \
	dsn/rhost.c dsn/lhost.c dsn/lhost_mta.c dsn/lhost_enrich.c \
	dsn/autoreply.c dsn/ses.c
