/*
 * fbld ingest: one message from stdin into the spool, for an MTA pipe
 * transport. The same code as the lean fbld-ingest binary (core/handover.c);
 * kept as a subcommand for the configurations and scripts that name it.
 */
#include "core/app.h"
#include "core/handover.h"

int
cmd_ingest(int argc, char **argv)
{
	return handover_main("fbld ingest", argc, argv);
}
