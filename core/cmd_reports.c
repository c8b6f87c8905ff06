/* fbld reports: the raw reports kept in the store, newest first, one JSON
 * object per line; --raw ID prints one message as it arrived. */
#include <stdio.h>

#include "core/app.h"
#include "core/jsonval.h"

static void
reports_print(void *ud, const struct store_report_row *row)
{
	JsonBuilder *b = json_builder_new_immutable();
	char *s;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "id");
	json_builder_add_int_value(b, row->id);
	json_builder_set_member_name(b, "received_ms");
	json_builder_add_int_value(b, row->received_ms);
	json_builder_set_member_name(b, "source");
	json_builder_add_string_value(b, row->source);
	json_builder_set_member_name(b, "kind");
	json_builder_add_string_value(b, row->kind);
	json_builder_set_member_name(b, "size");
	json_builder_add_int_value(b, row->size);
	json_builder_set_member_name(b, "orig_size");
	json_builder_add_int_value(b, row->orig_size);
	json_builder_set_member_name(b, "truncated");
	json_builder_add_boolean_value(b, row->truncated);
	json_builder_set_member_name(b, "account");
	if (row->account >= 0)
		json_builder_add_int_value(b, row->account);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "message");
	if (row->send >= 0)
		json_builder_add_int_value(b, row->send);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "token_error");
	json_builder_add_string_value(b, row->token_error);
	json_builder_set_member_name(b, "error");
	json_builder_add_string_value(b, row->error);
	json_builder_end_object(b);
	s = jsonval_builder_finish(b);
	printf("%s\n", s);
	g_free(s);
}

static void
reports_raw(void *ud, const struct store_report_row *row)
{
	int *found = ud;

	fwrite(row->raw, 1, row->raw_len, stdout);
	*found = 1;
}

int
cmd_reports(int argc, char **argv)
{
	struct app_opts o = { 0 };
	struct app a;
	gint limit = 20;
	gint64 raw_id = 0;
	char *kind = NULL;
	GOptionEntry entries[] = {
		{ "limit", 'n', 0, G_OPTION_ARG_INT, &limit,
		  "How many reports (default 20)", "N" },
		{ "kind", 'k', 0, G_OPTION_ARG_STRING, &kind,
		  "Only this kind (dsn, arf, dmarc-aggregate, autoreply, "
		  "not-feedback, unclassified)",
		  "KIND" },
		{ "raw", 0, 0, G_OPTION_ARG_INT64, &raw_id,
		  "Print report ID exactly as it arrived", "ID" },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new("- list stored reports");
	struct store *st = NULL;
	GError *e = NULL;
	int rc = 1, found = 0;

	g_option_context_add_main_entries(ctx, entries, NULL);
	app_add_options(ctx, &o);
	if (app_parse_options(ctx, &argc, &argv) < 0) {
		rc = 2;
		goto out;
	}
	if (app_load(&a, &o, 0, &e) < 0)
		goto out;
	st = store_open_config(&a.store, &e);
	if (st && raw_id > 0) {
		if (store_report_list(st, raw_id, NULL, 1, 1, reports_raw,
				      &found, &e) == 0)
			rc = found ? 0 : 1;
		if (!found && !e)
			fprintf(stderr,
				"fbld reports: no report %" G_GINT64_FORMAT
				"\n",
				raw_id);
	} else if (st && store_report_list(st, 0, kind, limit, 0, reports_print,
					   NULL, &e) == 0) {
		rc = 0;
	}
	store_close(st);
	app_clear(&a);
out:
	if (e) {
		fprintf(stderr, "fbld reports: %s\n", e->message);
		g_error_free(e);
	}
	g_option_context_free(ctx);
	g_free(kind);
	app_opts_clear(&o);
	return rc;
}
