# core/: main, CLI, config, logging, store, spool, ingest router, HTTP.
LIB_SRCS += core/log.c core/config.c core/jsonval.c core/store.c core/spool.c \
	core/report.c core/ingest.c core/pickup.c core/metrics.c \
	core/http.c core/daemon.c core/fdio.c
# The composition root: the only files that include every module.
MAIN_SRCS += core/main.c core/app.c core/cmd_serve.c core/cmd_ingest.c \
	core/cmd_parse.c core/cmd_token.c core/cmd_config.c core/cmd_reports.c \
	core/cmd_accounts.c core/cmd_report.c core/cmd_milter.c
# fbld-ingest, the pipe transport's hand-over alone (core/handover.h): these
# objects and GLib, nothing else. `fbld ingest` runs the same handover.c.
LIB_SRCS += core/cli.c core/handover.c
INGEST_SRCS := core/ingest_main.c core/handover.c core/cli.c core/config.c \
	core/log.c core/spool.c core/fdio.c
