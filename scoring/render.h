/*
 * render: text for people from the JSON documents of accounts.h (and the
 * digest's): aligned columns, thousands separators, rates with their
 * denominators, times in UTC. Pure; what the JSON lacks is shown as "-".
 * Returned strings belong to the caller.
 */
#ifndef FBLD_RENDER_H
#define FBLD_RENDER_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

/* "2026-01-02 09:14 UTC"; "-" for 0. */
void render_time(GString *out, int64_t ms);
/* "1,870". */
void render_int(GString *out, int64_t n);
/* "22.0 %" of whole, or "-" when whole is 0; more decimals below 1 %. */
void render_rate(GString *out, int64_t part, int64_t whole);

/* A table of strlen(align) columns, aligned, right-aligned where align[i]
 * is 'r'; the header cells follow align (NULL first: no header row). */
struct render_table;
struct render_table *render_table_new(const char *align,
				      ...) G_GNUC_NULL_TERMINATED;
void render_table_row(struct render_table *t);
void render_table_cell(struct render_table *t, const char *text);
void render_table_cellf(struct render_table *t, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);
void render_table_int(struct render_table *t, int64_t n);
void render_table_time(struct render_table *t, int64_t ms);
/* Appends the table, each line prefixed with indent, and frees it. */
void render_table_finish(struct render_table *t, GString *out,
			 const char *indent);

/* A counts object (accounts_counts_node) as labelled lines. */
void render_counts(GString *out, JsonObject *counts, const char *indent);
/* One state change (history row or webhook payload) with its reasons. */
void render_transition(GString *out, JsonObject *t, int with_account,
		       const char *indent);

char *render_accounts_list(JsonObject *list);
char *render_account(JsonObject *account);
char *render_report(JsonObject *report);

#endif
