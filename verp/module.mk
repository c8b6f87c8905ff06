# verp/: the token codec (all signing) and, later, the milter.
LIB_SRCS += verp/token.c verp/keys.c verp/url.c
