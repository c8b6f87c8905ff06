# scoring/: statistics, sequential tests, states and reasons (the engine),
# the daemon's scoring job and `fbld replay`.
LIB_SRCS += scoring/delay.c scoring/rcptset.c scoring/params.c \
	scoring/engine.c scoring/reasons.c
LIB_SRCS += scoring/replay.c
# The subcommand lives beside the other command files of the composition
# root; it is listed here so that core/module.mk stays untouched.
MAIN_SRCS += core/cmd_replay.c

# The population simulator of bench/scoring_sim.sh.
$(B)/bench/scoring_sim: $(B)/obj/bench/scoring_sim.o
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDOPT) -o $@ $< $(PKG_LIBS)
