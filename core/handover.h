/*
 * handover: the MTA pipe transport's command, one message from stdin into
 * the spool, run as `fbld ingest` and as the lean `fbld-ingest` binary
 * (core/ingest_main.c) alike. It never parses on the MTA's time: the
 * daemon's pickup does that later.
 *
 * It reads only [fbld] state_dir, [spool] and [log], and uses only GLib
 * and core/{cli,config,log,spool}.c, so that `fbld-ingest` loads no other
 * library: the dynamic loader's work on fbld's sixty libraries would be
 * nearly all of a hand-over's CPU. A bad value in those sections, an
 * unreadable file or broken syntax fail; keys of other sections are not
 * checked (config_check(), not config_finish(): unknown keys are
 * `fbld check-config`'s and `fbld serve`'s business).
 *
 * Exit status: 0 once the message is durable, HANDOVER_EX_TEMPFAIL (75,
 * sysexits' EX_TEMPFAIL) on any failure, with one message on stderr, so
 * the MTA keeps the message and retries. A message over [spool]
 * max_message_size is kept truncated and flagged, never refused.
 */
#ifndef FBLD_HANDOVER_H
#define FBLD_HANDOVER_H

#define HANDOVER_EX_TEMPFAIL 75

/* prog names the command in messages ("fbld ingest", "fbld-ingest");
 * argv[0] is its name as GOptionContext wants it. Returns the exit status. */
int handover_main(const char *prog, int argc, char **argv);

#endif
