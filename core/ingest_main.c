/*
 * fbld-ingest: `fbld ingest` as a binary of its own, linked with GLib only,
 * for the MTA's pipe transport, which starts one process per bounce. See
 * core/handover.h.
 */
#include "core/handover.h"

int
main(int argc, char **argv)
{
	return handover_main("fbld-ingest", argc, argv);
}
