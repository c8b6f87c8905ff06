LIB_SRCS += scoring/actions.c scoring/webhook.c scoring/accounts.c scoring/render.c scoring/digest.c scoring/outbox.c scoring/admin.c
# scoring/: statistics, sequential tests, states and reasons (the engine),
# the daemon's scoring job and `fbld replay`.
LIB_SRCS += scoring/delay.c scoring/rcptset.c scoring/params.c \
	scoring/engine.c scoring/reasons.c scoring/persist.c scoring/job.c
LIB_SRCS += scoring/replay.c
# The subcommand lives beside the other command files of the composition
# root; it is listed here so that core/module.mk stays untouched.
MAIN_SRCS += core/cmd_replay.c

