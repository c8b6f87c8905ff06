/*
 * jsonval: safe reading of JSON that came from outside (SES notifications
 * in bounces and complaints, API bodies, stored payloads): a parse with
 * bounded size and nesting, and typed member accessors that return NULL
 * (or the default) for a missing member, a member of another type, or a
 * NULL container, so callers never trip json-glib's assertions.
 *
 * json-glib's parser recurses once per nesting level: jsonval_parse()
 * refuses deeper input before parsing, so hostile input cannot exhaust the
 * stack. Returned nodes are owned by the caller (json_node_unref);
 * accessor results are borrowed from their container.
 */
#ifndef FBLD_JSONVAL_H
#define FBLD_JSONVAL_H

#include <json-glib/json-glib.h>
#include <stdint.h>

#define JSONVAL_DEPTH_MAX 64

/* Parses at most max_len bytes of text (len -1: NUL-terminated) nested at
 * most max_depth deep; NULL with error set otherwise. */
JsonNode *jsonval_parse(const char *text, gssize len, size_t max_len,
			int max_depth, GError **error);
/* The object a parsed root holds, or NULL when it is not an object. */
JsonObject *jsonval_root_object(JsonNode *root);

const char *jsonval_str(JsonObject *o, const char *name);
JsonObject *jsonval_obj(JsonObject *o, const char *name);
JsonArray *jsonval_arr(JsonObject *o, const char *name);
/* An integer member (a fraction truncated), or def when missing, not a
 * number, or out of the range of int64_t. */
int64_t jsonval_int(JsonObject *o, const char *name, int64_t def);
/* Is the member missing or null? */
int jsonval_null(JsonObject *o, const char *name);
const char *jsonval_arr_str(JsonArray *a, guint i);
JsonObject *jsonval_arr_obj(JsonArray *a, guint i);

/* Building: adds the member "name": value, or null when value is NULL. */
void jsonval_add_str(JsonBuilder *b, const char *name, const char *value);
/* The builder's document as compact JSON text (caller frees); unrefs b. */
char *jsonval_builder_finish(JsonBuilder *b);

#endif
