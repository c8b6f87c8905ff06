/* jsonval: see jsonval.h. */
#include "core/jsonval.h"

#include <string.h>

#define JSONVAL_ERROR (jsonval_error_quark())
static G_DEFINE_QUARK(fbld - jsonval - error - quark, jsonval_error)

	/* Is text nested at most max_depth deep? Strings are skipped. */
	static int jsonval_shallow(const char *text, size_t len, int max_depth)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth)
				return 0;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return 1;
}

JsonNode *
jsonval_parse(const char *text, gssize len, size_t max_len, int max_depth,
	      GError **error)
{
	size_t n = len < 0 ? strlen(text) : (size_t)len;
	JsonParser *p;
	JsonNode *root = NULL;

	if (n > max_len) {
		g_set_error(error, JSONVAL_ERROR, 1,
			    "JSON of %zu bytes, at most %zu", n, max_len);
		return NULL;
	}
	if (!jsonval_shallow(text, n, max_depth)) {
		g_set_error(error, JSONVAL_ERROR, 2,
			    "JSON nested deeper than %d levels", max_depth);
		return NULL;
	}
	p = json_parser_new_immutable();
	if (json_parser_load_from_data(p, text, (gssize)n, error) &&
	    json_parser_get_root(p))
		root = json_node_ref(json_parser_get_root(p));
	else if (error && !*error)
		g_set_error(error, JSONVAL_ERROR, 3, "empty JSON");
	g_object_unref(p);
	return root;
}

JsonObject *
jsonval_root_object(JsonNode *root)
{
	return root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root)
						    : NULL;
}

static JsonNode *
jsonval_member(JsonObject *o, const char *name)
{
	return o ? json_object_get_member(o, name) : NULL;
}

static const char *
jsonval_node_str(JsonNode *n)
{
	if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

const char *
jsonval_str(JsonObject *o, const char *name)
{
	return jsonval_node_str(jsonval_member(o, name));
}

JsonObject *
jsonval_obj(JsonObject *o, const char *name)
{
	JsonNode *n = jsonval_member(o, name);

	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

JsonArray *
jsonval_arr(JsonObject *o, const char *name)
{
	JsonNode *n = jsonval_member(o, name);

	return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

int64_t
jsonval_int(JsonObject *o, const char *name, int64_t def)
{
	JsonNode *n = jsonval_member(o, name);
	GType t;

	if (!n || !JSON_NODE_HOLDS_VALUE(n))
		return def;
	t = json_node_get_value_type(n);
	if (t == G_TYPE_INT64)
		return json_node_get_int(n);
	if (t == G_TYPE_DOUBLE) {
		double d = json_node_get_double(n);

		/* NaN, infinities and what int64_t cannot hold: def. */
		if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
			return def;
		return (int64_t)d;
	}
	if (t == G_TYPE_BOOLEAN)
		return json_node_get_boolean(n);
	return def;
}

int
jsonval_null(JsonObject *o, const char *name)
{
	JsonNode *n = jsonval_member(o, name);

	return !n || JSON_NODE_HOLDS_NULL(n);
}

const char *
jsonval_arr_str(JsonArray *a, guint i)
{
	if (!a || i >= json_array_get_length(a))
		return NULL;
	return jsonval_node_str(json_array_get_element(a, i));
}

JsonObject *
jsonval_arr_obj(JsonArray *a, guint i)
{
	JsonNode *n;

	if (!a || i >= json_array_get_length(a))
		return NULL;
	n = json_array_get_element(a, i);
	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

void
jsonval_add_str(JsonBuilder *b, const char *name, const char *value)
{
	json_builder_set_member_name(b, name);
	if (value)
		json_builder_add_string_value(b, value);
	else
		json_builder_add_null_value(b);
}

char *
jsonval_builder_finish(JsonBuilder *b)
{
	JsonNode *root = json_builder_get_root(b);
	char *s = json_to_string(root, FALSE);

	json_node_unref(root);
	g_object_unref(b);
	return s;
}
