# tests/: unit tests (cmocka, one binary each), helper programs, fuzz
# targets (each replayed over its corpus by `make check`).
UNIT_TESTS += $(wildcard tests/unit/test_*.c)
TEST_HELPERS += $(wildcard tests/lib/*.c)
FUZZ_TARGETS += $(filter-out tests/fuzz/replay_main.c,$(wildcard tests/fuzz/*.c))
