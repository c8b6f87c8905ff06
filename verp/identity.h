/*
 * identity: which account sent a message, decided at send time from what
 * the MTA tells the milter, in this order of trust
 * (../shared/notes/mta_integration.md section 5):
 *
 *   1. sasl    the SMTP AUTH login ({auth_authen});
 *   2. local   a local submission (sendmail(1), PHP mail()): the header a
 *              trusted sendmail wrapper sets, else, when Postfix's
 *              local_login_sender_maps constrains who may use which
 *              sender, the envelope sender's domain in the domain map;
 *   3. header  a configured identity header (advisory: anyone can write
 *              one, so it only counts when nothing better is known);
 *   4. domain  the envelope sender's domain, else the From: domain, in
 *              the domain map (advisory).
 *
 * The domain map is the configuration's [sender-domain:NAME] sections
 * first, then the store's account_domains table, through a callback.
 *
 * Pure apart from the callbacks. Untrusted values (header values, sender
 * addresses) are bounded: an account name taken from a header is at most
 * IDENTITY_NAME_MAX bytes of [A-Za-z0-9._@+-], cut at the first ':' or
 * blank ("65534:contact.php" names account "65534"); anything else is
 * ignored. Returned strings belong to the struct identity.
 */
#ifndef FBLD_IDENTITY_H
#define FBLD_IDENTITY_H

#include <glib.h>
#include <stdint.h>

#define IDENTITY_NAME_MAX 128

enum identity_source {
	IDENTITY_NONE,
	IDENTITY_SASL,
	IDENTITY_LOCAL,
	IDENTITY_HEADER,
	IDENTITY_DOMAIN,
};

struct identity_config {
	int sasl_domain;    /* the account is the login's domain */
	char *local_header; /* set by a trusted local wrapper; NULL: none */
	int local_sender;   /* trust the envelope sender on local mail */
	char **headers;	    /* identity headers, best first (may be NULL) */
	/* Configured domain map: lower-case domain -> account name. */
	GHashTable *domains;
};

struct identity_input {
	const char *sasl_login; /* NULL or "" when not authenticated */
	int local;		/* a local submission (pickup) */
	const char *env_from;	/* envelope sender, without <> */
	const char *from_addr;	/* the From: header's address, or NULL */
	/* The first value of a header, or NULL. */
	const char *(*header)(void *ud, const char *name);
	/* The store's domain map: 0 found (*id set), 1 none, -1 error. */
	int (*domain)(void *ud, const char *domain, int64_t *id,
		      GError **error);
	void *ud;
};

struct identity {
	enum identity_source source;
	char *name; /* account by name (create when new), or NULL */
	int64_t id; /* account by id when name is NULL, else -1 */
	char *via;  /* what decided: header name or domain, or NULL */
};

/* Fills *out (source IDENTITY_NONE when nothing matched); -1 only when the
 * store's domain map failed. */
int identity_resolve(const struct identity_config *ic,
		     const struct identity_input *in, struct identity *out,
		     GError **error);
void identity_clear(struct identity *id);

const char *identity_source_name(enum identity_source s);

/* The account name a header value gives, or NULL (caller frees). */
char *identity_name_from_value(const char *value);
/* The lower-case domain of an address ("<a@B.example>" -> "b.example"), or
 * NULL (caller frees). */
char *identity_addr_domain(const char *addr);

void identity_config_clear(struct identity_config *ic);

#endif
