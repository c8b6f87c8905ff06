/*
 * dsn/rhost: receiving providers that explain their replies in their own
 * code tables (Google, Microsoft, Yahoo, Apple, AOL, Orange, GoDaddy,
 * Cox, ...). A provider is recognised by the recipient's domain or the
 * remote MTA's name; its table is then read before the generic phrases,
 * because a provider's own wording is the most precise thing a bounce
 * carries. The phrases come from the providers' published error pages
 * (collected by Sisimai's rhost tables, BSD 2-Clause).
 */
#include <string.h>

#include "dsn/dsn_int.h"

enum provider {
	P_NONE,
	P_AOL,
	P_APPLE,
	P_COX,
	P_FACEBOOK,
	P_FRANCEPTT,
	P_GODADDY,
	P_GOOGLE,
	P_GSUITE,
	P_KDDI,
	P_MESSAGELABS,
	P_MICROSOFT,
	P_MIMECAST,
	P_NTTDOCOMO,
	P_TENCENT,
	P_YAHOO,
};

struct provider_def {
	enum provider p;
	const char *const *suffixes; /* of the MTA host name or domain */
};

#define L(...)                                                                 \
	(const char *const[])                                                  \
	{                                                                      \
		__VA_ARGS__, NULL                                              \
	}

static const struct provider_def providers[] = {
	{ P_AOL, L(".mail.aol.com", ".mx.aol.com") },
	{ P_APPLE, L(".mail.icloud.com", ".apple.com", ".me.com") },
	{ P_COX, L("cox.net") },
	{ P_FACEBOOK, L(".facebook.com") },
	{ P_FRANCEPTT, L(".laposte.net", ".orange.fr", ".wanadoo.fr") },
	{ P_GODADDY,
	  L("smtp.secureserver.net", "mailstore1.secureserver.net") },
	{ P_GOOGLE, L("aspmx.l.google.com", "gmail-smtp-in.l.google.com") },
	{ P_GSUITE, L("googlemail.com") },
	{ P_KDDI, L(".ezweb.ne.jp", "msmx.au.com") },
	{ P_MESSAGELABS, L(".messagelabs.com") },
	{ P_MICROSOFT,
	  L(".prod.outlook.com", ".protection.outlook.com", ".onmicrosoft.com",
	    ".exchangelabs.com", ".hotmail.com", ".outlook.com") },
	{ P_MIMECAST, L(".mimecast.com") },
	{ P_NTTDOCOMO, L("mfsmax.docomo.ne.jp") },
	{ P_TENCENT, L(".qq.com") },
	{ P_YAHOO, L(".yahoodns.net") },
};

struct rule {
	enum provider p;
	const char *status; /* required status prefix, or NULL */
	const char *phrase; /* lower case */
	const char *reason;
};

static const struct rule rules[] = {
	{ P_AOL, NULL, "host or domain name not found", "hostunknown" },
	{ P_AOL, NULL, "type=mx: malformed or unexpected name server reply",
	  "notaccept" },

	{ P_APPLE, NULL, "s dmarc policy", "authfailure" },
	{ P_APPLE, NULL, "blocked for failing both spf and dkim",
	  "authfailure" },
	{ P_APPLE, NULL,
	  "rejected due to having a domain present in the "
	  "spamhaus",
	  "blocked" },
	{ P_APPLE, NULL, "rejected due to listing in spamhaus", "blocked" },
	{ P_APPLE, NULL, "blocked - see https://support.proofpoint.com/dnsbl",
	  "blocked" },
	{ P_APPLE, NULL, "not accepting connections", "blocked" },
	{ P_APPLE, NULL, "recipient no longer on server", "hasmoved" },
	{ P_APPLE, NULL, "user is over quota", "mailboxfull" },
	{ P_APPLE, NULL, "relay access denied", "norelaying" },
	{ P_APPLE, NULL, "host/domain does not accept mail", "notaccept" },
	{ P_APPLE, NULL, "due to local policy", "policyviolation" },
	{ P_APPLE, NULL, "sender address rejected", "rejected" },
	{ P_APPLE, NULL, "due to excessive volume", "speeding" },
	{ P_APPLE, NULL, "inactive email address", "userunknown" },
	{ P_APPLE, NULL, "user does not exist", "userunknown" },
	{ P_APPLE, NULL, "unknown or illegal alias", "userunknown" },

	{ P_COX, NULL, "cox too many bad commands from", "blocked" },
	{ P_COX, NULL, "too many invalid recipients", "blocked" },
	{ P_COX, NULL, "dns check failure - try again later", "requireptr" },
	{ P_COX, NULL, "rejected - no rdns", "requireptr" },
	{ P_COX, NULL, "esmtp no data before greeting", "policyviolation" },
	{ P_COX, NULL, "attachment extension is forbidden", "policyviolation" },
	{ P_COX, NULL, "sender rejected", "rejected" },
	{ P_COX, NULL, "esmtp server temporarily not available",
	  "systemerror" },
	{ P_COX, NULL, "too many sessions from", "toomanyconn" },
	{ P_COX, NULL, "requested action aborted: try again later",
	  "toomanyconn" },
	{ P_COX, NULL, "message threshold exceeded", "toomanyconn" },
	{ P_COX, NULL, "recipient rejected", "userunknown" },

	{ P_FACEBOOK, NULL, "refused due to recipient preferences",
	  "filtered" },

	{ P_FRANCEPTT, NULL, "spf/dns de votre nom de domaine", "authfailure" },

	{ P_GODADDY, NULL, "rbl reject", "blocked" },
	{ P_GODADDY, NULL, "www.spamhaus.org/query/bl?ip=", "blocked" },
	{ P_GODADDY, NULL, "has been in the queue too long", "expired" },
	{ P_GODADDY, NULL, "delivery timeout", "expired" },
	{ P_GODADDY, NULL, "account storage limit", "mailboxfull" },
	{ P_GODADDY, NULL, "message rejected for spam or virus content",
	  "spamdetected" },
	{ P_GODADDY, NULL, "account disabled", "suspend" },
	{ P_GODADDY, NULL, "message is looping", "systemerror" },
	{ P_GODADDY, NULL, "recipient not found", "userunknown" },
	{ P_GODADDY, NULL, "account does not exist", "userunknown" },

	{ P_GOOGLE, NULL, "the spf record of the sending domain",
	  "authfailure" },
	{ P_GOOGLE, NULL, "senders to authenticate with either spf or dkim",
	  "authfailure" },
	{ P_GOOGLE, NULL,
	  "fails to pass spf checks for an spf record with a "
	  "hard fail",
	  "authfailure" },
	{ P_GOOGLE, NULL, "has an spf record with a hard fail policy",
	  "authfailure" },
	{ P_GOOGLE, NULL, "is not accepted due to domain's dmarc policy",
	  "authfailure" },
	{ P_GOOGLE, NULL, "fails to pass authentication checks",
	  "authfailure" },
	{ P_GOOGLE, NULL, "senders to authenticate with spf", "authfailure" },
	{ P_GOOGLE, NULL, "senders to authenticate their email with",
	  "authfailure" },
	{ P_GOOGLE, NULL, "senders to authenticate with dkim", "authfailure" },
	{ P_GOOGLE, NULL, "aligned with either the authenticated spf or dkim",
	  "authfailure" },
	{ P_GOOGLE, NULL, "to add a dmarc record to ", "authfailure" },
	{ P_GOOGLE, NULL, "very low reputation of the sending",
	  "badreputation" },
	{ P_GOOGLE, NULL, "ip not in whitelist for rcpt domain", "blocked" },
	{ P_GOOGLE, NULL, "try again later, closing connection.", "blocked" },
	{ P_GOOGLE, NULL, "empty helo/ehlo argument not allowed", "blocked" },
	{ P_GOOGLE, NULL, "helo/ehlo argument is invalid", "blocked" },
	{ P_GOOGLE, NULL, "an unusual rate of unsolicited mail", "blocked" },
	{ P_GOOGLE, NULL, "an unusual rate of mail", "blocked" },
	{ P_GOOGLE, "5.2.3", "exceeded google's message size limits",
	  "exceedlimit" },
	{ P_GOOGLE, NULL, "exceeds google's limit of limit attachments.",
	  "exceedlimit" },
	{ P_GOOGLE, NULL, "message header size limit", "exceedlimit" },
	{ P_GOOGLE, NULL, "bytes per individual header size", "exceedlimit" },
	{ P_GOOGLE, NULL, "exceeds google's header name limit of",
	  "exceedlimit" },
	{ P_GOOGLE, NULL, "connection expired", "expired" },
	{ P_GOOGLE, NULL, "timeout - closing connection", "expired" },
	{ P_GOOGLE, NULL, "must issue a starttls command first",
	  "failedstarttls" },
	{ P_GOOGLE, NULL, "starttls may not be repeated", "failedstarttls" },
	{ P_GOOGLE, NULL, "tls required for rcpt domain", "failedstarttls" },
	{ P_GOOGLE, NULL, "senders to use tls/ssl for smtp", "failedstarttls" },
	{ P_GOOGLE, NULL, "inbox is out of storage space", "mailboxfull" },
	{ P_GOOGLE, NULL, "is over quota", "mailboxfull" },
	{ P_GOOGLE, NULL, "email quota exceeded", "mailboxfull" },
	{ P_GOOGLE, NULL, "exceeded google's message size limits",
	  "mesgtoobig" },
	{ P_GOOGLE, NULL, "exceeds google's message size limit of",
	  "mesgtoobig" },
	{ P_GOOGLE, NULL, "message exceeded 50 hops", "networkerror" },
	{ P_GOOGLE, NULL, "mail relay denied", "norelaying" },
	{ P_GOOGLE, NULL, "invalid credentials for relay", "norelaying" },
	{ P_GOOGLE, NULL,
	  "is not authorized to send email directly to our "
	  "servers",
	  "norelaying" },
	{ P_GOOGLE, NULL, "missing a valid address in the from: header",
	  "notcompliantrfc" },
	{ P_GOOGLE, NULL, "multiple addresses in from:", "notcompliantrfc" },
	{ P_GOOGLE, NULL, "is not rfc 5322 compliant", "notcompliantrfc" },
	{ P_GOOGLE, NULL, "missing a valid message-id: header",
	  "notcompliantrfc" },
	{ P_GOOGLE, NULL, "contains a unicode character in a disallowed header",
	  "notcompliantrfc" },
	{ P_GOOGLE, NULL, "encoded-word syntax is not permitted",
	  "notcompliantrfc" },
	{ P_GOOGLE, "5.1.7", "is not a valid rfc 5321 address",
	  "notcompliantrfc" },
	{ P_GOOGLE, NULL, "mail message is malformed", "notcompliantrfc" },
	{ P_GOOGLE, NULL, "illegal attachment on your message",
	  "policyviolation" },
	{ P_GOOGLE, NULL,
	  "blocked because its content presents a potential "
	  "security issue",
	  "policyviolation" },
	{ P_GOOGLE, NULL, "has a policy that prohibited", "policyviolation" },
	{ P_GOOGLE, NULL,
	  "sending messages with the same message-id:", "policyviolation" },
	{ P_GOOGLE, NULL, "mail sending denied", "rejected" },
	{ P_GOOGLE, NULL, "unauthenticated email is not accepted", "rejected" },
	{ P_GOOGLE, NULL, "does not have a ptr record", "requireptr" },
	{ P_GOOGLE, NULL, " have a ptr record, or the ptr record",
	  "requireptr" },
	{ P_GOOGLE, NULL, "does not meet ipv6 sending guidelines regarding ptr",
	  "requireptr" },
	{ P_GOOGLE, NULL, "does not match the ip address of the hostname",
	  "requireptr" },
	{ P_GOOGLE, NULL, "too many login attempts", "securityerror" },
	{ P_GOOGLE, NULL, "no identity changes permitted", "securityerror" },
	{ P_GOOGLE, NULL, "authentication required.", "securityerror" },
	{ P_GOOGLE, NULL, "application-specific password required",
	  "securityerror" },
	{ P_GOOGLE, NULL, "please log in with your web browser",
	  "securityerror" },
	{ P_GOOGLE, NULL, "please log in through your web browser",
	  "securityerror" },
	{ P_GOOGLE, NULL, "username and password not accepted",
	  "securityerror" },
	{ P_GOOGLE, NULL, "due to the nature of the content or the links",
	  "spamdetected" },
	{ P_GOOGLE, NULL, "likely unsolicited mail", "spamdetected" },
	{ P_GOOGLE, NULL, "is receiving mail too quickly", "speeding" },
	{ P_GOOGLE, NULL, "peak smtp relay limit exceeded for customer",
	  "speeding" },
	{ P_GOOGLE, NULL,
	  "rate that prevents additional messages from being "
	  "delivered",
	  "speeding" },
	{ P_GOOGLE, NULL, "daily sending quota exceeded", "speeding" },
	{ P_GOOGLE, NULL, "daily user sending limit exceeded", "speeding" },
	{ P_GOOGLE, NULL, "daily smtp relay limit exceeded for", "speeding" },
	{ P_GOOGLE, NULL, "daily smtp relay sending limit exceeded for",
	  "speeding" },
	{ P_GOOGLE, NULL, "this mail has been rate limited", "speeding" },
	{ P_GOOGLE, NULL, "account that you tried to reach is disabled",
	  "suspend" },
	{ P_GOOGLE, NULL, "account that you tried to reach is inactive",
	  "suspend" },
	{ P_GOOGLE, NULL, "smtp protocol violation", "syntaxerror" },
	{ P_GOOGLE, NULL, "optional argument not permitted", "syntaxerror" },
	{ P_GOOGLE, NULL, "syntax error", "syntaxerror" },
	{ P_GOOGLE, NULL, "unrecognized command", "syntaxerror" },
	{ P_GOOGLE, NULL, "unimplemented command", "syntaxerror" },
	{ P_GOOGLE, NULL, "bad sequence of commands", "syntaxerror" },
	{ P_GOOGLE, NULL, "no data after bdat", "syntaxerror" },
	{ P_GOOGLE, NULL, "unrecognized authentication type", "syntaxerror" },
	{ P_GOOGLE, NULL, "too many unauthenticated commands", "syntaxerror" },
	{ P_GOOGLE, NULL, "temporary system problem", "systemerror" },
	{ P_GOOGLE, NULL, "server busy", "systemerror" },
	{ P_GOOGLE, NULL, "multiple destination domains per transaction",
	  "systemerror" },
	{ P_GOOGLE, NULL, "temporarily rejected this message", "systemerror" },
	{ P_GOOGLE, NULL, "mail server temporarily rejected message",
	  "systemerror" },
	{ P_GOOGLE, NULL, "domain policy size per transaction exceeded",
	  "systemerror" },
	{ P_GOOGLE, NULL, "your message has too many recipients",
	  "toomanyconn" },
	{ P_GOOGLE, NULL, "too many recipients for this sender",
	  "toomanyconn" },
	{ P_GOOGLE, NULL,
	  "the email account that you tried to reach does not "
	  "exist",
	  "userunknown" },
	{ P_GOOGLE, NULL, "we weren't able to find the recipient domain",
	  "userunknown" },
	{ P_GOOGLE, "5.1.3", "is not a valid rfc 5321 address", "userunknown" },

	{ P_KDDI, NULL, "550 : user unknown", "filtered" },
	{ P_KDDI, NULL, ">: user unknown", "userunknown" },

	{ P_MESSAGELABS, NULL, "domain authentication fail", "authfailure" },
	{ P_MESSAGELABS, NULL, "connection rejected by policy",
	  "badreputation" },
	{ P_MESSAGELABS, NULL, "mail rejected because your ip is in the pbl",
	  "blocked" },
	{ P_MESSAGELABS, NULL, "your ip address has been ", "blocked" },
	{ P_MESSAGELABS, NULL, "stray linefeeds in message", "contenterror" },
	{ P_MESSAGELABS, NULL, "tls/sslv3 connection required",
	  "failedstarttls" },
	{ P_MESSAGELABS, NULL, " as a relay, ", "norelaying" },
	{ P_MESSAGELABS, NULL, "550 requested action aborted [4]",
	  "notcompliantrfc" },
	{ P_MESSAGELABS, NULL, "has detected that this message is not rfc 5322",
	  "notcompliantrfc" },
	{ P_MESSAGELABS, NULL,
	  "sender envelope domain not allowed for sender "
	  "ip address",
	  "rejected" },
	{ P_MESSAGELABS, NULL, "your domain has been blocked", "rejected" },
	{ P_MESSAGELABS, NULL, "your email address has been blocked",
	  "rejected" },
	{ P_MESSAGELABS, NULL, "your envelope sender is in my badmailfrom list",
	  "rejected" },
	{ P_MESSAGELABS, NULL, "your email address has been blacklisted",
	  "rejected" },
	{ P_MESSAGELABS, NULL, "your domain has been blacklisted", "rejected" },
	{ P_MESSAGELABS, NULL, "please turn on smtp authentication",
	  "securityerror" },
	{ P_MESSAGELABS, NULL, "message filtered", "spamdetected" },
	{ P_MESSAGELABS, NULL, "filtered by outbound scanning",
	  "spamdetected" },
	{ P_MESSAGELABS, NULL, "too many recipients received this hour",
	  "toomanyconn" },
	{ P_MESSAGELABS, NULL, "too many messages", "toomanyconn" },
	{ P_MESSAGELABS, NULL, "no such user", "userunknown" },
	{ P_MESSAGELABS, NULL, "invalid recipient", "userunknown" },
	{ P_MESSAGELABS, NULL, "mailbox is not allowed", "userunknown" },

	{ P_MICROSOFT, "4.7.26", "must pass either spf or dkim validation",
	  "authfailure" },
	{ P_MICROSOFT, "5.7.23", "sender policy framework violation",
	  "authfailure" },
	{ P_MICROSOFT, "5.7.509", "does not pass dmarc verification",
	  "authfailure" },
	{ P_MICROSOFT, "5.7.515",
	  "doesn't meet the required authentication "
	  "level",
	  "authfailure" },
	{ P_MICROSOFT, "4.7.650",
	  "temporarily rate limited due to ip "
	  "reputation",
	  "badreputation" },
	{ P_MICROSOFT, "4.4.2", "connection dropped", "blocked" },
	{ P_MICROSOFT, "4.7.", "access denied, please try again later",
	  "blocked" },
	{ P_MICROSOFT, "5.7.25", "must have a reverse dns record", "blocked" },
	{ P_MICROSOFT, "5.7.506", "access denied, bad helo", "blocked" },
	{ P_MICROSOFT, "5.7.507", "access denied, rejected by recipient",
	  "blocked" },
	{ P_MICROSOFT, "5.7.510", "does not accept email over ipv6",
	  "blocked" },
	{ P_MICROSOFT, "5.7.511", "access denied, banned sender", "blocked" },
	{ P_MICROSOFT, "5.7.513", "using customer block list", "blocked" },
	{ P_MICROSOFT, "5.7.6", "access denied, banned sending ip ",
	  "blocked" },
	{ P_MICROSOFT, "5.5.4", "invalid domain name", "blocked" },
	{ P_MICROSOFT, "5.7.1", "part of their network is on our block list",
	  "blocked" },
	{ P_MICROSOFT, "5.3.0", "too many related errors", "contenterror" },
	{ P_MICROSOFT, "5.6.11", "invalid characters", "contenterror" },
	{ P_MICROSOFT, "5.4.11", "agent generated message depth exceeded",
	  "contenterror" },
	{ P_MICROSOFT, "5.5.6", "invalid message content", "contenterror" },
	{ P_MICROSOFT, "5.2.3", "message too large for this recipient",
	  "mesgtoobig" },
	{ P_MICROSOFT, "5.3.4", "message size exceeds fixed maximum",
	  "mesgtoobig" },
	{ P_MICROSOFT, "5.3.4", "message too big for system", "mesgtoobig" },
	{ P_MICROSOFT, "4.4.1", "connection timed out", "expired" },
	{ P_MICROSOFT, "4.4.7", "message delayed", "expired" },
	{ P_MICROSOFT, "4.4.7", "message expired", "expired" },
	{ P_MICROSOFT, "5.4.300", "message expired", "expired" },
	{ P_MICROSOFT, "5.4.316", "message expired", "expired" },
	{ P_MICROSOFT, NULL, " failed mta-sts validation", "failedstarttls" },
	{ P_MICROSOFT, NULL, "starttls is required to send mail",
	  "failedstarttls" },
	{ P_MICROSOFT, NULL, "starttls-not-supported:", "failedstarttls" },
	{ P_MICROSOFT, NULL, "certificate-expired:", "failedstarttls" },
	{ P_MICROSOFT, NULL, "tlsa-invalid:", "failedstarttls" },
	{ P_MICROSOFT, NULL, "dnssec-invalid:", "failedstarttls" },
	{ P_MICROSOFT, NULL, "certificate-host-mismatch:", "failedstarttls" },
	{ P_MICROSOFT, "5.2.2", "mailbox full", "mailboxfull" },
	{ P_MICROSOFT, "5.4.4", "nonexistentdomain; nonexistent domain",
	  "networkerror" },
	{ P_MICROSOFT, "5.4.6", "hop count exceeded - possible mail loop",
	  "networkerror" },
	{ P_MICROSOFT, "4.4.312", "dns query failed", "networkerror" },
	{ P_MICROSOFT, "5.4.312", "dns query failed", "networkerror" },
	{ P_MICROSOFT, "4.4.316", "connection refused", "networkerror" },
	{ P_MICROSOFT, "5.4.316", "connection refused", "networkerror" },
	{ P_MICROSOFT, "5.4.4", "invalid arguments", "networkerror" },
	{ P_MICROSOFT, "5.4.6", "routing loop detected", "networkerror" },
	{ P_MICROSOFT, "5.4.14", "routing loop detected", "networkerror" },
	{ P_MICROSOFT, "5.7.1", "unable to relay", "norelaying" },
	{ P_MICROSOFT, "5.7.1", "client was not authenticated", "norelaying" },
	{ P_MICROSOFT, "5.4.1", "relay access denied", "norelaying" },
	{ P_MICROSOFT, "5.7.64", "relay access denied", "norelaying" },
	{ P_MICROSOFT, "5.4.310", "does not exist", "norelaying" },
	{ P_MICROSOFT, "4.3.2", "system not accepting network messages",
	  "notaccept" },
	{ P_MICROSOFT, "4.4.4", "hosted tenant which has no mail-enabled",
	  "notaccept" },
	{ P_MICROSOFT, "5.3.2", "missing or bad storedriver mdb properties",
	  "notaccept" },
	{ P_MICROSOFT, "5.0.350", "x-dg-ref header is too long",
	  "policyviolation" },
	{ P_MICROSOFT, "5.0.350", "policy violation detected (as345)",
	  "policyviolation" },
	{ P_MICROSOFT, "5.7.9", "delivery not authorized, message refused",
	  "policyviolation" },
	{ P_MICROSOFT, "5.1.7", "invalid address", "rejected" },
	{ P_MICROSOFT, "5.1.7", "unknown sender address", "rejected" },
	{ P_MICROSOFT, "5.1.0", "sender denied", "rejected" },
	{ P_MICROSOFT, "5.1.8", "access denied, bad outbound sender",
	  "rejected" },
	{ P_MICROSOFT, "5.7.1", "delivery not authorized", "rejected" },
	{ P_MICROSOFT, "5.7.12", "sender was not authenticated by organization",
	  "rejected" },
	{ P_MICROSOFT, "5.7.124", "sender not in allowed-senders list",
	  "rejected" },
	{ P_MICROSOFT, "5.7.13", "sender not authenticated for group",
	  "rejected" },
	{ P_MICROSOFT, "5.7.13", "sender was not authenticated", "rejected" },
	{ P_MICROSOFT, "5.7.50", "access denied, spam abuse detected",
	  "rejected" },
	{ P_MICROSOFT, "5.7.512", "must be rfc 5322 section 3.6.2 compliant",
	  "rejected" },
	{ P_MICROSOFT, "5.7.750",
	  "client blocked from sending from "
	  "unregistered domains",
	  "rejected" },
	{ P_MICROSOFT, "5.7.3", "cannot achieve exchange server authentication",
	  "securityerror" },
	{ P_MICROSOFT, "5.7.3", "not authorized", "securityerror" },
	{ P_MICROSOFT, "5.7.57",
	  "client was not authenticated to send "
	  "anonymous mail",
	  "securityerror" },
	{ P_MICROSOFT, "5.2.1", "content filter agent quarantined this message",
	  "spamdetected" },
	{ P_MICROSOFT, "5.5.3", "too many recipients", "speeding" },
	{ P_MICROSOFT, "4.3.2", "recipient thread limit exceeded", "speeding" },
	{ P_MICROSOFT, "4.5.3", "too many recipients", "speeding" },
	{ P_MICROSOFT, "4.7.652",
	  "has exceeded the maximum number of "
	  "connections",
	  "speeding" },
	{ P_MICROSOFT, "5.1.90",
	  "reached your daily limit for message "
	  "recipients",
	  "speeding" },
	{ P_MICROSOFT, "5.2.2", "submission quota exceeded", "speeding" },
	{ P_MICROSOFT, "5.2.12", "recipient's per hour message receive limit",
	  "speeding" },
	{ P_MICROSOFT, "5.2.122", "the recipient has exceeded their limit for",
	  "speeding" },
	{ P_MICROSOFT, "5.7.508", "has exceeded permitted limits within",
	  "speeding" },
	{ P_MICROSOFT, "5.7.7", "tenant has exceeded threshold", "speeding" },
	{ P_MICROSOFT, "5.7.7", "traffic not accepted from this ip",
	  "speeding" },
	{ P_MICROSOFT, "5.7.504", "recipient address rejected: access denied",
	  "suspend" },
	{ P_MICROSOFT, "5.7.505", "access denied, banned recipient",
	  "suspend" },
	{ P_MICROSOFT, "5.2.1", "mailbox cannot be accessed", "suspend" },
	{ P_MICROSOFT, "5.3.3", "unrecognized command", "syntaxerror" },
	{ P_MICROSOFT, "5.5.2", "send hello first", "syntaxerror" },
	{ P_MICROSOFT, "4.3.2", "service not available", "systemerror" },
	{ P_MICROSOFT, "4.3.2", "service not active", "systemerror" },
	{ P_MICROSOFT, "5.3.5", "system incorrectly configured",
	  "systemerror" },
	{ P_MICROSOFT, "5.3.190", "when journaling archive is disabled",
	  "systemerror" },
	{ P_MICROSOFT, "5.1.4", "destination mailbox address ambiguous",
	  "systemerror" },
	{ P_MICROSOFT, "5.2.4", "mailing list expansion problem",
	  "systemerror" },
	{ P_MICROSOFT, "5.2.14", "misconfigured forwarding address",
	  "systemerror" },
	{ P_MICROSOFT, "4.4.2",
	  "message failed to be replicated:", "systemerror" },
	{ P_MICROSOFT, NULL, "(suspiciousremoteservererror)", "systemerror" },
	{ P_MICROSOFT, "4.7.500", "server busy. please try again later from ",
	  "systemerror" },
	{ P_MICROSOFT, "4.7.700", "pfa agent busy, please try again.",
	  "systemerror" },
	{ P_MICROSOFT, "4.3.1", "insufficient system resources", "systemfull" },
	{ P_MICROSOFT, "5.1.1", "resolver.adr.exrecipnotfound; not found",
	  "userunknown" },
	{ P_MICROSOFT, "5.1.1", "user unknown", "userunknown" },
	{ P_MICROSOFT, "5.1.3", "invalid recipient address", "userunknown" },
	{ P_MICROSOFT, "5.1.", "recipient address reserved by rfc 2606",
	  "userunknown" },
	{ P_MICROSOFT, "5.1.6", "in single label domains not accepted",
	  "userunknown" },
	{ P_MICROSOFT, "5.1.1", "bad destination mailbox address",
	  "userunknown" },
	{ P_MICROSOFT, "5.1.10", "recipient not found", "userunknown" },
	{ P_MICROSOFT, "5.4.1", "recipient address rejected: access denied",
	  "userunknown" },
	{ P_MICROSOFT, "5.5.0",
	  "requested action not taken: mailbox "
	  "unavailable",
	  "userunknown" },
	{ P_MICROSOFT, "5.1.2", "invalid x.400 address", "userunknown" },
	{ P_MICROSOFT, "5.1.351", "remote server returned unknown recipient",
	  "userunknown" },
	/* Outlook.com's own codes (postmaster troubleshooting page). */
	{ P_MICROSOFT, NULL, "rp-001", "badreputation" },
	{ P_MICROSOFT, NULL, "rp-002", "badreputation" },
	{ P_MICROSOFT, NULL, "rp-003", "badreputation" },
	{ P_MICROSOFT, NULL, "sc-001", "badreputation" },
	{ P_MICROSOFT, NULL, "sc-002", "policyviolation" },
	{ P_MICROSOFT, NULL, "sc-003", "blocked" },
	{ P_MICROSOFT, NULL, "sc-004", "blocked" },
	{ P_MICROSOFT, NULL, "dy-001", "blocked" },
	{ P_MICROSOFT, NULL, "ou-001", "blocked" },
	{ P_MICROSOFT, NULL, "ou-002", "badreputation" },

	{ P_MIMECAST, NULL, "sender invalid - envelope rejected",
	  "authfailure" },
	{ P_MIMECAST, NULL, "internal resources are temporarily unavailable",
	  "badreputation" },
	{ P_MIMECAST, NULL, "local ct ip reputation - (reject)",
	  "badreputation" },
	{ P_MIMECAST, NULL, "sender address blocked", "blocked" },
	{ P_MIMECAST, NULL, "recipient temporarily unavailable", "blocked" },
	{ P_MIMECAST, NULL, "ip temporarily blacklisted", "blocked" },
	{ P_MIMECAST, NULL, "this route requires", "failedstarttls" },
	{ P_MIMECAST, NULL, "maximum email size exceeded", "mesgtoobig" },
	{ P_MIMECAST, NULL, "mail loop detected", "networkerror" },
	{ P_MIMECAST, NULL, "open relay not allowed", "norelaying" },
	{ P_MIMECAST, NULL, "open relay is not allowed", "norelaying" },
	{ P_MIMECAST, NULL, "account inbounds disabled", "notaccept" },
	{ P_MIMECAST, NULL, "anti-spoofing policy", "policyviolation" },
	{ P_MIMECAST, NULL, "content examination policy", "policyviolation" },
	{ P_MIMECAST, NULL, "host network not allowed", "policyviolation" },
	{ P_MIMECAST, NULL, "host network, not allowed", "policyviolation" },
	{ P_MIMECAST, NULL, "envelope blocked", "rejected" },
	{ P_MIMECAST, NULL, "blocked senders", "rejected" },
	{ P_MIMECAST, NULL, "block policy for envelope from", "rejected" },
	{ P_MIMECAST, NULL, "incorrect authentication data", "securityerror" },
	{ P_MIMECAST, NULL, "submitter failed to", "securityerror" },
	{ P_MIMECAST, NULL, "unable to process", "systemerror" },
	{ P_MIMECAST, NULL, "message ended early", "systemerror" },
	{ P_MIMECAST, NULL, "account service is temporarily unavailable",
	  "toomanyconn" },
	{ P_MIMECAST, NULL, "too many recipients", "toomanyconn" },
	{ P_MIMECAST, NULL, "exceeding outbound thread limit", "toomanyconn" },
	{ P_MIMECAST, NULL, "invalid address", "userunknown" },
	{ P_MIMECAST, NULL, "user unknown", "userunknown" },
	{ P_MIMECAST, NULL, "invalid recipient", "userunknown" },

	{ P_NTTDOCOMO, NULL, "552 too much mail data", "mailboxfull" },
	{ P_NTTDOCOMO, NULL, "503 bad sequence of commands", "syntaxerror" },
	{ P_NTTDOCOMO, NULL, "504 command parameter not implemented",
	  "syntaxerror" },
	{ P_NTTDOCOMO, NULL, "552 too many recipients", "toomanyconn" },
	{ P_NTTDOCOMO, NULL, "550 unknown user", "userunknown" },

	{ P_TENCENT, NULL, "spf check failed", "authfailure" },
	{ P_TENCENT, NULL, "dmarc check failed", "authfailure" },
	{ P_TENCENT, NULL, "suspected bounce attacks", "blocked" },
	{ P_TENCENT, NULL, "suspected spam ip", "blocked" },
	{ P_TENCENT, NULL, "connection denied", "blocked" },
	{ P_TENCENT, NULL, "message too large", "mesgtoobig" },
	{ P_TENCENT, NULL, "suspected spam", "rejected" },
	{ P_TENCENT, NULL, "mail is rejected by recipients", "rejected" },
	{ P_TENCENT, NULL, "spam is embedded in the email", "spamdetected" },
	{ P_TENCENT, NULL, "mail content denied", "spamdetected" },
	{ P_TENCENT, NULL, "mailbox unavailable or access denined",
	  "speeding" },
	{ P_TENCENT, NULL, "frequency of receiving messages is limited",
	  "speeding" },
	{ P_TENCENT, NULL, "is a deactivated mailbox", "suspend" },
	{ P_TENCENT, NULL, "bad address syntax", "syntaxerror" },
	{ P_TENCENT, NULL, "frequency limited", "toomanyconn" },
	{ P_TENCENT, NULL, "mailbox not found", "userunknown" },

	{ P_YAHOO, NULL, "yahoo requires all senders to authenticate",
	  "authfailure" },
	{ P_YAHOO, NULL, " because the ip is in spamhaus's list;", "blocked" },
	{ P_YAHOO, NULL, "not accepted from ip addresses on spamhaus xbl",
	  "blocked" },
	{ P_YAHOO, NULL, "relaying denied for ", "norelaying" },
	{ P_YAHOO, NULL, "headers are not rfc compliant", "notcompliantrfc" },
	{ P_YAHOO, NULL, "not accepted for policy reasons", "policyviolation" },
	{ P_YAHOO, NULL,
	  "temporarily deferred due to unexpected volume or "
	  "user complaints",
	  "rejected" },
	{ P_YAHOO, NULL, "due to unresolvable rfc.5321 domain", "rejected" },
	{ P_YAHOO, NULL, " will be permanently deferred", "rejected" },
	{ P_YAHOO, NULL, "user is receiving mail too quickly", "speeding" },
	{ P_YAHOO, NULL, " is no longer valid.", "suspend" },
	{ P_YAHOO, NULL, "this mailbox is disabled", "suspend" },
	{ P_YAHOO, NULL, "syntax error in parameters or arguments",
	  "syntaxerror" },
	{ P_YAHOO, NULL, "max message per connection reached", "toomanyconn" },
	{ P_YAHOO, NULL, "dd this user doesn't have a ", "userunknown" },
	{ P_YAHOO, NULL, "mailbox not found", "userunknown" },
};

/* host ends with one of the suffixes, or (the recipient's domain) one of
 * the suffixes ends with it: "icloud.com" names ".mail.icloud.com". */
static int
provider_matches(const struct provider_def *d, const char *host, int domain)
{
	size_t hl = strlen(host);

	for (const char *const *s = d->suffixes; *s; s++) {
		size_t sl = strlen(*s);

		if (hl >= sl && g_ascii_strcasecmp(host + hl - sl, *s) == 0)
			return 1;
		if (domain && hl > 3 && sl > hl && (*s)[sl - hl - 1] == '.' &&
		    g_ascii_strcasecmp(*s + sl - hl, host) == 0)
			return 1;
	}
	return 0;
}

static enum provider
provider_of(const struct dsn_rcpt *rc)
{
	const char *at = rc->addr ? strrchr(rc->addr, '@') : NULL;

	for (size_t i = 0; at && i < G_N_ELEMENTS(providers); i++)
		if (provider_matches(&providers[i], at + 1, 1))
			return providers[i].p;
	for (size_t i = 0; rc->rhost && i < G_N_ELEMENTS(providers); i++)
		if (provider_matches(&providers[i], rc->rhost, 0))
			return providers[i].p;
	for (size_t i = 0; rc->lhost && i < G_N_ELEMENTS(providers); i++)
		if (provider_matches(&providers[i], rc->lhost, 0))
			return providers[i].p;
	return P_NONE;
}

/* Orange and La Poste end their replies with a code: "LPN007_416",
 * "OFR_506", "OFR004_405 [405]". */
static const char *
francept_code(const char *lc)
{
	static const struct {
		const char *code, *reason;
	} codes[] = {
		{ "101", "blocked" },	      { "102", "blocked" },
		{ "103", "blocked" },	      { "104", "toomanyconn" },
		{ "305", "securityerror" },   { "401", "authfailure" },
		{ "402", "securityerror" },   { "403", "rejected" },
		{ "405", "rejected" },	      { "415", "rejected" },
		{ "416", "userunknown" },     { "417", "mailboxfull" },
		{ "420", "suspend" },	      { "421", "rejected" },
		{ "426", "suspend" },	      { "505", "systemerror" },
		{ "506", "spamdetected" },    { "510", "blocked" },
		{ "514", "mesgtoobig" },      { "517", "authfailure" },
		{ "630", "policyviolation" }, { "999", "blocked" },
	};
	static const char *const labels[] = { "lpn", "ofr", "ouk", NULL };

	for (const char *const *l = labels; *l; l++) {
		const char *p = NULL, *q;
		char num[4];

		for (q = strstr(lc, *l); q; q = strstr(q + 1, *l))
			p = q;
		if (!p)
			continue;
		p += strlen(*l);
		while (g_ascii_isalnum(*p) || *p == '_' || *p == '-')
			p++;
		/* p is past "LPN007_416": the code is its last 3 digits. */
		if (p - 3 < lc || !g_ascii_isdigit(p[-1]) ||
		    !g_ascii_isdigit(p[-2]) || !g_ascii_isdigit(p[-3]))
			continue;
		memcpy(num, p - 3, 3);
		num[3] = '\0';
		for (size_t i = 0; i < G_N_ELEMENTS(codes); i++)
			if (strcmp(codes[i].code, num) == 0)
				return codes[i].reason;
		return NULL;
	}
	return NULL;
}

/* GoDaddy's "IB401"-style codes, Cox's "AUP#CXBL". */
static const char *
tagged_code(const char *diag, const char *tag, const char *const (*tab)[2],
	    size_t n)
{
	const char *p = diag ? strstr(diag, tag) : NULL;

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(tab[i][0]);

		if (strncmp(p + strlen(tag), tab[i][0], l) == 0 &&
		    !g_ascii_isalnum(p[strlen(tag) + l]))
			return tab[i][1];
	}
	return NULL;
}

/*
 * NTT DOCOMO answers "550 Unknown user" both for a missing mailbox and
 * for its reception filters; the status and the command tell them apart
 * (a rejection after DATA is the filter).
 */
static const char *
docomo_reason(const struct dsn_rcpt *rc, const char *lc)
{
	const char *st = rc->status ? rc->status : "";
	const char *cmd = rc->command ? rc->command : "";

	if (strcmp(st, "5.1.1") == 0)
		return "userunknown";
	if (strcmp(st, "5.2.0") == 0)
		return "filtered";
	/* Unambiguous replies first; "550 Unknown user" only after the
	 * command has had its say. */
	for (size_t i = 0; i < G_N_ELEMENTS(rules); i++)
		if (rules[i].p == P_NTTDOCOMO &&
		    strcmp(rules[i].reason, "userunknown") != 0 &&
		    strstr(lc, rules[i].phrase))
			return rules[i].reason;
	if (strcmp(st, "5.0.0") == 0 && strcmp(cmd, "RCPT") == 0)
		return "userunknown";
	if (strcmp(st, "5.0.0") == 0 && strcmp(cmd, "DATA") == 0)
		return "rejected";
	return strstr(lc, "550 unknown user") ? "userunknown" : NULL;
}

/* Google Workspace's own DSNs: DNS failures are temporary (networkerror)
 * or permanent (hostunknown) by the class of the code. */
static const char *
gsuite_reason(const struct dsn_rcpt *rc, const char *lc)
{
	char cls = rc->status ? rc->status[0] : 0;

	if (strstr(lc, "null mx"))
		return "notaccept";
	if (strstr(lc, "because the address couldn't be found. check for "
		       "typos"))
		return "userunknown";
	if (strstr(lc, "responded with code nxdomain") ||
	    strstr(lc, "domain name not found"))
		return cls == '5' ? "hostunknown" : "networkerror";
	if (strstr(lc, " had no relevant answers.") && cls != '5')
		return "networkerror";
	return NULL;
}

static const char *
provider_codes(enum provider p, const struct dsn_rcpt *rc, const char *lc)
{
	static const char *const godaddy[][2] = {
		{ "401", "securityerror" },   { "501", "notcompliantrfc" },
		{ "502", "notcompliantrfc" }, { "506", "rejected" },
		{ "508", "authfailure" },     { "108", "requireptr" },
		{ "212", "spamdetected" },    { "705", "virusdetected" },
		{ "605", "toomanyconn" },     { "007", "toomanyconn" },
		{ "101", "speeding" },	      { "110", "blocked" },
		{ "111", "blocked" },	      { "112", "blocked" },
		{ "113", "blocked" },	      { "504", "speeding" },
		{ "510", "speeding" },	      { "607", "speeding" },
		{ "103", "badreputation" },   { "104", "blocked" },
		{ "105", "blocked" },	      { "106", "blocked" },
	};
	static const char *const cox[][2] = {
		{ "CXBL", "blocked" },	     { "CXDNS", "requireptr" },
		{ "CXSNDR", "authfailure" }, { "CXSMTP", "rejected" },
		{ "CXCNCT", "toomanyconn" }, { "CXMXRT", "toomanyconn" },
		{ "CDRBL", "blocked" },	     { "CXTHRT", "securityerror" },
		{ "CXMJ", "securityerror" }, { "IPBL", "blocked" },
		{ "URLBL", "spamdetected" },
	};

	switch (p) {
	case P_NTTDOCOMO:
		return docomo_reason(rc, lc);
	case P_GSUITE:
		return gsuite_reason(rc, lc);
	case P_FRANCEPTT:
		return francept_code(lc);
	case P_GODADDY:
		return tagged_code(rc->diag, " IB", godaddy,
				   G_N_ELEMENTS(godaddy));
	case P_COX:
		return tagged_code(rc->diag, "AUP#", cox, G_N_ELEMENTS(cox));
	default:
		return NULL;
	}
}

static int
status_fits(const char *want, const char *status)
{
	if (!want)
		return 1;
	return status && g_str_has_prefix(status, want);
}

const char *
dsn_rhost_reason(const struct dsn_rcpt *rc, const char *lc)
{
	enum provider p;
	const char *r;

	if (!lc || !*lc)
		return NULL;
	p = provider_of(rc);
	if (p == P_NONE)
		return NULL;
	r = provider_codes(p, rc, lc);
	if (r)
		return r;
	for (size_t i = 0; i < G_N_ELEMENTS(rules); i++)
		if (rules[i].p == p &&
		    status_fits(rules[i].status, rc->status) &&
		    strstr(lc, rules[i].phrase))
			return rules[i].reason;
	return NULL;
}
