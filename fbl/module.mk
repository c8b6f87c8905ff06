# fbl/: ARF complaints, DMARC aggregate reports, the IMAP poller.
LIB_SRCS += fbl/fbl.c fbl/arf.c fbl/arf_other.c fbl/dmarc.c \
	fbl/dmarc_unpack.c
LIB_SRCS += fbl/imap.c fbl/imap_session.c
PKGS += gnutls
