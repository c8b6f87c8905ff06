# fbl/: ARF complaints, DMARC aggregate reports, the IMAP poller.
LIB_SRCS += fbl/fbl.c fbl/arf.c fbl/arf_other.c fbl/dmarc.c \
	fbl/dmarc_unpack.c fbl/dmarc_libs.c
LIB_SRCS += fbl/imap.c fbl/imap_session.c
PKGS += gnutls

# Rewrites tests/data/fbl/*.json from the current parsers: review the diff.
.PHONY: golden-fbl
golden-fbl: deps
	@$(MAKE) --no-print-directory $(B)/tests/test_fbl_golden
	@FBLD_GOLDEN_REGEN=1 $(B)/tests/test_fbl_golden
