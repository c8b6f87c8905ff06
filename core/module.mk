# core/: main, CLI, config, logging, store, spool, ingest router, HTTP.
LIB_SRCS += core/log.c core/config.c core/jsonval.c core/store.c core/spool.c \
	core/report.c core/ingest.c core/pickup.c core/metrics.c \
	core/http.c core/daemon.c
# The composition root: the only files that include every module.
MAIN_SRCS += core/main.c core/app.c core/cmd_serve.c core/cmd_ingest.c \
	core/cmd_parse.c core/cmd_token.c core/cmd_config.c core/cmd_reports.c \
	core/cmd_accounts.c core/cmd_report.c core/cmd_milter.c
