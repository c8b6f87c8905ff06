/*
 * tracking/form: does a POST body ask for a one-click unsubscribe? RFC
 * 8058 section 3.1: the body holds the key/value pair
 * "List-Unsubscribe=One-Click", sent as application/x-www-form-urlencoded
 * or multipart/form-data (parsed with GMime, which must be initialised).
 *
 * Pure: bytes in, an answer out. Bodies over FORM_BODY_MAX bytes and
 * forms of more than FORM_FIELDS_MAX fields are refused (0).
 */
#ifndef FBLD_TRACKING_FORM_H
#define FBLD_TRACKING_FORM_H

#include <stddef.h>

#define FORM_BODY_MAX 8192
#define FORM_FIELDS_MAX 32

/* 1 when the form holds List-Unsubscribe=One-Click, else 0.
 * content_type may be NULL (read as urlencoded). */
int tracking_form_one_click(const char *content_type, const char *body,
			    size_t len);

#endif
