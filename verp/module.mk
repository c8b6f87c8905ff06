# verp/: the token codec (all signing) and, later, the milter.
LIB_SRCS += verp/token.c verp/keys.c verp/url.c
# verp/: the sending side: identity, policy, HTML rewriting, content
# fingerprints, the per-message pipeline, the milter and the policy service.
LIB_SRCS += verp/identity.c verp/policy.c verp/policyd.c verp/rewrite.c \
	verp/fingerprint.c verp/mark.c verp/milter.c verp/recorder.c
