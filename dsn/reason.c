/*
 * dsn/reason: the reason taxonomy of ../shared/formats.md (Sisimai's
 * names, the de-facto open vocabulary) and how one is chosen.
 *
 * Three sources, in this order of trust: what a recogniser knows for
 * certain (an auto-reply, an ESP's own bounce type), what a receiving
 * provider's code table says (rhost.c), then the diagnostic text and the
 * status code weighed together: a status code alone is often ambiguous
 * (5.7.1 is a spam block, a policy rejection or an authentication failure;
 * 5.1.1 from some providers is rate limiting), so each reason is probed in
 * a fixed order with the rule that fits it (e.g. "user unknown" in a reply
 * to DATA is content filtering, not a missing mailbox). The order and the
 * phrase lists learn from Sisimai (BSD 2-Clause, libsisimai.org), whose
 * public corpus this is measured against.
 *
 * Phrases are lower-case substrings; a phrase with SEP inside matches when
 * its pieces occur in that order. Matching is memmem over a short lower-case
 * diagnostic: no regular expressions.
 */
#include <string.h>

#include "dsn/dsn_int.h"

#define SEP "\x1f"

struct reason_def {
	const char *name;
	const char *const *phrases;
};

static const char *const p_authfailure[] = {
	"//spf.pobox.com",
	"bad spf records for",
	"dmarc policy",
	"doesn't meet the required authentication level",
	"please inspect your spf settings",
	"sender policy framework (spf) fail",
	"sender policy framework violation",
	"spf (sender policy framework) domain authentication fail",
	"spf check: fail",
	"the 5322.from address doesn't meet the authentication requirements",
	" is not allowed to send mail." SEP "_401",
	"is not allowed to send from <" SEP " per it's spf record",
	NULL
};

static const char *const p_badreputation[] = {
	"a poor email reputation score",
	"has been temporarily rate limited due to ip reputation",
	"ip/domain reputation problems",
	"likely suspicious due to the very low reputation",
	"none/bad reputation",
	"temporarily deferred due to unexpected volume or user complaints",
	"the sending mta's poor reputation",
	NULL
};

static const char *const p_blocked[] = {
	" said: 550 blocked",
	"//www.spamcop.net/bl.",
	"bad sender ip address",
	"banned sending ip",
	"blacklisted by",
	"blocked using ",
	"blocked - see http",
	"dnsbl:attrbl",
	"client host rejected: abus detecte gu_eib_02",
	"client host rejected: abus detecte gu_eib_04",
	"client host rejected: may not be mail exchanger",
	"client host rejected: was not authenticated",
	"confirm this mail server",
	"connection dropped",
	"connection refused by",
	"connection reset by peer",
	"connection was dropped by remote host",
	"connections not accepted from ip addresses on spamhaus xbl",
	"currently sending spam see: ",
	"domain does not exist:",
	"dynamic/zombied/spam ips blocked",
	"error: no valid recipients from ",
	"esmtp not accepting connections",
	"extreme bad ip profile",
	"go away",
	"helo command rejected:",
	"host network not allowed",
	"hosts with dynamic ip",
	"invalid ip for sending mail of domain",
	"is in a black list",
	"is not allowed to send mail from",
	"mailfrom domain is listed in spamhaus",
	"no access from mail server",
	"no matches to nameserver query",
	"not currently accepting mail from your ip",
	"part of their network is on our block list",
	"please use the smtp server of your isp",
	"refused - see http",
	"rejected - multi-blacklist",
	"rejected because the sending mta or the sender has not passed "
	"validation",
	"rejecting open proxy",
	"sender ip address rejected",
	"server access forbidden by your ip ",
	"service not available, closing transmission channel",
	"smtp error from remote mail server after initial connection:",
	"sorry, that domain isn't in my list of allowed rcpthosts",
	"sorry, your remotehost looks suspiciously like spammer",
	"temporarily deferred due to unexpected volume or user complaints",
	"to submit messages to this e-mail system has been rejected",
	"too many spams from your ip",
	"too many unwanted messages have been sent from the following ip",
	"was blocked by ",
	"we do not accept mail from dynamic ips",
	"you are not allowed to connect",
	"you are sending spam",
	"your ip address is listed in the rbl",
	"your network is temporary blacklisted",
	"your server requires confirmation",
	"(" SEP "@" SEP ":blocked)",
	"access from ip address " SEP " blocked",
	"client host " SEP " blocked using",
	"connections will not be accepted from " SEP
	" because the ip is in spamhaus's list",
	"dnsbl:rbl " SEP ">_is_blocked",
	"email blocked by " SEP ".barracudacentral.org",
	"email blocked by " SEP "spamhaus",
	"host " SEP " refused to talk to me: " SEP " blocked",
	"ip " SEP " is blocked by earthlink",
	"is in an " SEP "rbl on ",
	"mail server at " SEP " is blocked",
	"mail from " SEP " refused:",
	"mail from " SEP " refused, see " SEP "orbs",
	"message from " SEP " rejected based on blacklist",
	"messages from " SEP " temporarily deferred due to user complaints",
	"server ip " SEP " listed as abusive",
	"sorry! your ip address" SEP " is blocked by rbl",
	"the domain " SEP " is blacklisted",
	"the email " SEP " is blacklisted",
	"the ip" SEP " is blacklisted",
	"veuillez essayer plus tard. service refused, please try later. " SEP
	"103",
	"veuillez essayer plus tard. service refused, please try later. " SEP
	"510",
	"your access ip" SEP " has been rejected",
	"your sender's ip address is listed at " SEP ".abuseat.org",
	NULL
};

static const char *const p_contenterror[] = {
	"duplicate header",
	"header size exceeds maximum permitted",
	"improper use of 8-bit data in message header",
	"message header size, or recipient list, exceeds policy limit",
	"message mime complexity exceeds the policy maximum",
	"routing loop detected -- too many received: headers",
	"this message contain invalid mime headers",
	"this message contain improperly-formatted binary content",
	"this message contain text that uses unnecessary base64 encoding",
	NULL
};

static const char *const p_exceedlimit[] = {
	"message header size exceeds limit", "message too large", NULL
};

static const char *const p_expired[] = {
	"connection timed out",
	"could not find a gateway for",
	"delivery attempts will continue to be",
	"delivery expired",
	"delivery time expired",
	"failed to deliver to domain ",
	"giving up on",
	"have been failing for a long time",
	"has been delayed",
	"it has not been collected after",
	"message expired after sitting in queue for",
	"message expired, cannot connect to remote server",
	"message expired, connection refulsed",
	"message timed out",
	"retry time not reached for any host after a long failure period",
	"server did not respond",
	"this message has been in the queue too long",
	"unable to deliver message after multiple retries",
	"was not reachable within the allowed queue period",
	"your message could not be delivered for more than",
	"could not be delivered for" SEP " days",
	NULL
};

static const char *const p_failedstarttls[] = {
	"starttls is required to send mail", "tls required but not supported",
	NULL
};

static const char *const p_filtered[] = {
	"account is protected by",
	"bounced address",
	"has restricted sms e-mail",
	"is not accepting any mail",
	"message filtered",
	"message rejected due to user rules",
	"not found recipient account",
	"recipient id refuse to receive mail",
	"recipient is only accepting mail from specific email addresses",
	"refused due to recipient preferences",
	"user not found",
	"user refuses to receive this mail",
	"user reject",
	"you have been blocked by the recipient",
	NULL
};

static const char *const p_hasmoved[] = { " has been replaced by ", NULL };

static const char *const p_hostunknown[] = {
	"domain does not exist",
	"domain is not reachable",
	"domain must exist",
	"host or domain name not found",
	"host unknown",
	"host unreachable",
	"mail domain mentioned in email address is unknown",
	"name or service not known",
	"no such domain",
	"recipient address rejected: unknown domain name",
	"recipient domain must exist",
	"the account or domain may not exist",
	"unknown host",
	"unroutable address",
	"unrouteable address",
	"553 " SEP " does not exist",
	NULL
};

static const char *const p_mailboxfull[] = {
	"452 insufficient disk space",
	"account disabled temporarly for exceeding receiving limits",
	"boite du destinataire pleine",
	"exceeded storage allocation",
	"full mailbox",
	"mailbox exceeds allowed size",
	"mailbox size limit exceeded",
	"mailbox would exceed maximum allowed storage",
	"mailfolder is full",
	"no space left on device",
	"not sufficient disk space",
	"quota violation for",
	"too much mail data",
	"user has exceeded quota, bouncing mail",
	"user has too many messages on the server",
	"user's space has been used up",
	"account is " SEP " quota",
	"disk" SEP "quota",
	"enough " SEP " space",
	"mailbox " SEP "exceeded" SEP " limit",
	"mailbox " SEP "full",
	"mailbox " SEP "quota",
	"maildir " SEP "quota",
	"over " SEP "quota",
	"quota " SEP "exceeded",
	NULL
};

static const char *const p_mailererror[] = { " || exit ",
					     "procmail: ",
					     "bin/procmail",
					     "bin/maidrop",
					     "command failed: ",
					     "command died with status ",
					     "command output:",
					     "mailer error",
					     "pipe to |/",
					     "x-unix; ",
					     NULL };

static const char *const p_mesgtoobig[] = {
	"exceeded maximum inbound message size",
	"exceeded the maximum incoming message size",
	"line limit exceeded",
	"max message size exceeded",
	"message file too big",
	"message header size exceeds limit",
	"message length exceeds administrative limit",
	"message size exceeds fixed limit",
	"message size exceeds fixed maximum message size",
	"message size exceeds maximum value",
	"message too big",
	"message too large",
	"size limit",
	"taille limite du message atteinte",
	NULL
};

static const char *const p_networkerror[] = {
	"could not connect and send the mail to",
	"dns records for the destination computer could not be found",
	"hop count exceeded - possible mail loop",
	"host is unreachable",
	"host name lookup failure",
	"host not found, try again",
	"mail forwarding loop for ",
	"malformed name server reply",
	"malformed or unexpected name server reply",
	"maximum forwarding loop count exceeded",
	"message looping",
	"message probably in a routing loop",
	"no route to host",
	"too many hops",
	"unable to resolve route ",
	"unrouteable mail domain",
	NULL
};

static const char *const p_norelaying[] = {
	"as a relay",
	"email address is not verified.",
	"insecure mail relay",
	"is not permitted to relay through this server without "
	"authentication",
	"mail server requires authentication when attempting to send to a "
	"non-local e-mail address",
	"no relaying",
	"not a gateway",
	"not allowed to relay through this machine",
	"not an open relay, so get lost",
	"not local host",
	"relay access denied",
	"relay denied",
	"relay not permitted",
	"relaying denied",
	"relaying mail to ",
	"specified domain is not allowed",
	"that domain isn't in my list of allowed rcpthost",
	"this system is not configured to relay mail",
	"unable to relay ",
	"we don't handle mail for",
	NULL
};

static const char *const p_notaccept[] = {
	"does not accept mail (nullmx)",
	"host/domain does not accept mail",
	"host does not accept mail",
	"mail receiving disabled",
	"name server: .: host not found",
	"no mx record found for domain=",
	"no mx found for domain",
	"no mx found for destination",
	"no route for current request",
	"smtp protocol returned a permanent error",
	NULL
};

static const char *const p_notcompliantrfc[] = {
	"duplicate header", "this message is not rfc 5322 compliant",
	"https://support.google.com/mail/?p=rfcmessagenoncompliant",
	" multiple " SEP " header", NULL
};

static const char *const p_policyviolation[] = {
	"an illegal attachment on your message",
	"because the recipient is not accepting mail with ",
	"by non-member to a members-only list",
	"closed mailing list",
	"denied by policy",
	"email not accepted for policy reasons",
	"email rejected due to security policies",
	"header are not accepted",
	"header error",
	"local policy violation",
	"message bounced due to organizational settings",
	"message given low priority",
	"message not accepted for policy reasons",
	"message rejected due to local policy",
	"messages with multiple addresses",
	"rejected for policy reasons",
	"protocol violation",
	"the email address used to send your message is not subscribed to "
	"this group",
	"the message was rejected by organization policy",
	"this message was blocked because its content presents a potential",
	"we do not accept messages containing images or other attachments",
	"you're using a mass mailer",
	"you have exceeded the" SEP
	"allowable number of posts without solving a captcha",
	NULL
};

static const char *const p_rejected_not[] = { "5.1.0 address rejected",
					      "recipient address rejected",
					      "sender ip address rejected",
					      NULL };

static const char *const p_rejected[] = {
	"access denied (in reply to mail from command)",
	"access denied (sender blacklisted)",
	"address rejected",
	"administrative prohibition",
	"batv failed to verify",
	"batv validation failure",
	"backscatter protection detected an invalid or expired email "
	"address",
	"because the sender isn't on the recipient's list of senders to "
	"accept mail from",
	"bogus mail from",
	"can't determine purported responsible address",
	"connections not accepted from servers without a valid sender "
	"domain",
	"denied [bouncedeny]",
	"denied by secumail valid-address-filter",
	"delivery not authorized, message refused",
	"does not exist e2110",
	"domain of sender address ",
	"email address is on senderfilterconfig list",
	"emetteur invalide",
	"empty envelope senders not allowed",
	"envelope blocked - ",
	"error: no third-party dsns",
	"from: domain is invalid. please provide a valid from:",
	"fully qualified email address required",
	"invalid domain, see <url:",
	"invalid sender",
	"is not a registered gateway user",
	"mail from not owned by user",
	"message rejected: email address is not verified",
	"mx records for ",
	"null sender is not allowed",
	"recipient addresses rejected : access denied",
	"recipient not accepted. (batv: no tag",
	"returned mail not accepted here",
	"rfc 1035 violation: recursive cname records for",
	"rule imposed mailbox access for",
	"sending this from a different address or alias using the ",
	"sender address has been blacklisted",
	"sender email address rejected",
	"sender is in my black list",
	"sender is spammer",
	"sender not pre-approved",
	"sender rejected",
	"sender domain is empty",
	"sender verify failed",
	"sender was rejected",
	"spam reporting address",
	"syntax error: empty email address",
	"the message has been rejected by batv defense",
	"this server does not accept mail from",
	"transaction failed unsigned dsn for",
	"unroutable sender address",
	"you are not allowed to post to this mailing list",
	"you are sending to/from an address that has been blacklisted",
	"your access to submit messages to this e-mail system has been "
	"rejected",
	"your email address has been blacklisted",
	NULL
};

static const char *const p_requireptr[] = {
	"access denied. ip name lookup failed",
	"all mail servers must have a ptr record with a valid reverse dns "
	"entry",
	"bad dns ptr resource record",
	"cannot find your hostname",
	"cannot resolve your address.",
	"client host rejected: cannot find your hostname",
	"fix reverse dns for ",
	"ips with missing ptr records",
	"no ptr record found.",
	"please get a custom reverse dns name from your isp for your host",
	"ptr record setup",
	"reverse dns failed",
	"reverse dns required",
	"sender ip reverse lookup rejected",
	"the ip address sending this message does not have a ptr record "
	"setup",
	"the corresponding forward dns entry does not point to the sending "
	"ip",
	"this system will not accept messages from servers/devices with no "
	"reverse dns",
	"unresolvable relay host name",
	"we do not accept mail from hosts with dynamic ip or generic dns "
	"ptr-records",
	"domain " SEP " mismatches client ip",
	"dns lookup failure: " SEP " try again later",
	"reverse dns lookup for host " SEP " failed permanently",
	"server access " SEP
	" forbidden by invalid rdns record of your mail server",
	"service permits " SEP " unverifyable sending ips",
	NULL
};

static const char *const p_securityerror[] = {
	"account not subscribed to ses",
	"authentication credentials invalid",
	"authentication failure",
	"authentication required",
	"authentication turned on in your email client",
	"executable files are not allowed in compressed files",
	"insecure mail relay",
	"recipient address rejected: access denied",
	"sorry, you don't authenticate or the domain isn't in my list of "
	"allowed rcpthosts",
	"unauthenticated senders not allowed",
	"verification failure",
	"you are not authorized to send mail, authentication is required",
	"authentication failed; server " SEP " said: ",
	"authentification invalide" SEP "305",
	"authentification requise" SEP "402",
	"domain " SEP " is a dead domain",
	"user " SEP " is not authorized to perform ses:sendrawemail on "
	"resource",
	NULL
};

static const char *const p_spamdetected[] = {
	" - spam",
	"//www.spamhaus.org/help/help_spam_16.htm",
	"//dsbl.org/help/help_spam_16.htm",
	"//mail.163.com/help/help_spam_16.htm",
	"554 5.7.0 reject, id=",
	"appears to be unsolicited",
	"blacklisted url in message",
	"block for spam",
	"blocked by policy: no spam please",
	"blocked by spamassassin",
	"blocked for abuse. see http://att.net/blocks",
	"cannot be forwarded because it was detected as spam",
	"considered unsolicited bulk e-mail (spam) by our mail filters",
	"content filter rejection",
	"cyberoam anti spam engine has identified this email as a bulk "
	"email",
	"denied due to spam list",
	"high probability of spam",
	"is classified as spam and is rejected",
	"listed in work.drbl.imedia.ru",
	"the mail server detected your message as spam and has prevented "
	"delivery.",
	"mail appears to be unsolicited",
	"mail content denied",
	"may consider spam",
	"message considered as spam or virus",
	"message contains spam or virus",
	"message content rejected",
	"message detected as spam",
	"message filtered",
	"message looks like spam",
	"message is being rejected as it seems to be a spam",
	"message refused by mailmarshal spamprofiler",
	"message refused by trustwave seg spamprofiler",
	"message rejected as spam",
	"message rejected because of unacceptable content",
	"message rejected due to suspected spam content",
	"message rejected for policy reasons",
	"message was rejected for possible spam/virus content",
	"our email server thinks this email is spam",
	"our system has detected that this message is ",
	"probable spam",
	"reject bulk.advertising",
	"rejected: spamassassin score ",
	"rejected - bulk email",
	"rejecting banned content",
	"rejecting mail content",
	"related to content with spam-like characteristics",
	"sender domain listed at ",
	"sending address not accepted due to spam filter",
	"spam blocked",
	"spam check",
	"spam content matched",
	"spam detected",
	"spam email",
	"spam message rejected.",
	"spam not accepted",
	"spam refused",
	"spam rejection",
	"spam score ",
	"spambouncer identified spam",
	"spamming not allowed",
	"too many spam complaints",
	"too much spam.",
	"the email message was detected as spam",
	"the message has been rejected by spam filtering engine",
	"the message was rejected due to classification as bulk mail",
	"the content of this message looked like spam",
	"this message appears to be spam",
	"this message has been identified as spam",
	"this message has been scored as spam with a probability",
	"this message was classified as spam",
	"this message was rejected by recurrent pattern detection system",
	"transaction failed spam message not queued",
	"we dont accept spam",
	"your email appears similar to spam we have received before",
	"your email breaches local uribl policy",
	"your email had spam-like ",
	"your email is considered spam",
	"your email is probably spam",
	"your email was detected as spam",
	"your message as spam and has prevented delivery",
	"your message has been temporarily blocked by our filter",
	"your message has been rejected because it appears to be spam",
	"your message has triggered a spam block",
	"your message may contain the spam contents",
	"your message failed several antispam checks",
	"greylisted" SEP " please try again in",
	"mail score (" SEP " over ",
	"mail rejete. mail rejected. " SEP "506",
	"our filters rate at and above " SEP
	" percent probability of being spam",
	"rejected by " SEP " (spam)",
	"rejected due to spam " SEP "classification",
	"rejected due to spam " SEP "content",
	"rule imposed as " SEP " is blacklisted on",
	"spam " SEP " exceeded",
	"this message scored " SEP " spam points",
	NULL
};

static const char *const p_speeding[] = {
	"mail sent from your ip address has been temporarily rate limited",
	"please try again slower",
	"receiving mail at a rate that prevents additional messages from "
	"being delivered",
	NULL
};

static const char *const p_suspend[] = {
	" is currently suspended",
	" temporary locked",
	"archived recipient",
	"boite du destinataire archivee",
	"email account that you tried to reach is disabled",
	"has been suspended",
	"inactive account",
	"invalid/inactive user",
	"is a deactivated mailbox",
	"is unavailable: user is terminated",
	"mailbox currently suspended",
	"mailbox disabled",
	"mailbox is frozen",
	"mailbox unavailable or access denied",
	"recipient rejected: temporarily inactive",
	"recipient suspend the service",
	"the email account that you tried to reach is inactive",
	"this account has been disabled or discontinued",
	"this account has been temporarily suspended",
	"this address no longer accepts mail",
	"this mailbox is disabled",
	"user or domain is disabled",
	"user suspended",
	"vdelivermail: account is locked email bounced",
	NULL
};

static const char *const p_systemerror[] = {
	"aliasing/forwarding loop broken",
	"can't create user output file",
	"could not load drd for domain",
	"internal error reading data",
	"internal server error: operation now in progress",
	"interrupted system call",
	"it encountered an error while being processed",
	"it would create a mail loop",
	"local configuration error",
	"local error in processing",
	"loop was found in the mail exchanger",
	"loops back to myself",
	"mail system configuration error",
	"queue file write error",
	"recipient deferred because there is no mdb",
	"remote server is misconfigured",
	"server configuration error",
	"service currently unavailable",
	"system config error",
	"temporary local problem",
	"timeout waiting for input",
	"transaction failed ",
	"unable to connect " SEP "daemon",
	NULL
};

static const char *const p_systemfull[] = {
	"mail system full",
	"requested mail action aborted: exceeded storage allocation", NULL
};

static const char *const p_toomanyconn[] = {
	"all available ips are at maximum connection limit",
	"connection rate limit exceeded",
	"exceeds per-domain connection limit for",
	"has exceeded the max emails per hour ",
	"throttling failure: daily message quota exceeded",
	"throttling failure: maximum sending rate exceeded",
	"too many connections",
	"too many concurrent smtp connections",
	"too many errors from your ip",
	"too many recipients",
	"too many smtp sessions for this host",
	"trop de connexions, ",
	"we have already made numerous attempts to deliver this message",
	NULL
};

static const char *const p_userunknown[] = {
	"#5.1.1 bad address",
	"550 address invalid",
	"5.1.0 address rejected.",
	"address does not exist",
	"address not present in directory",
	"address unknown",
	"can't accept user",
	"does not exist.",
	"destination addresses were unknown",
	"destination server rejected recipients",
	"email address does not exist",
	"email address could not be found",
	"invalid address",
	"invalid mailbox",
	"invalid mailbox path",
	"invalid recipient",
	"is not a known user",
	"is not a valid mailbox",
	"is not an active address at this host",
	"mailbox does not exist",
	"mailbox invalid",
	"mailbox is inactive",
	"mailbox is unavailable",
	"mailbox not present",
	"mailbox not found",
	"mailbox unavaiable",
	"nessun utente simile in questo indirizzo",
	"no account by that name here",
	"no existe dicha persona",
	"no existe ese usuario ",
	"no mail box available for this user",
	"no mailbox by that name is currently available",
	"no mailbox found",
	"no such address here",
	"no such mailbox",
	"no such person at this address",
	"no such recipient",
	"no such user",
	"no thank you rejected: account unavailable",
	"no valid recipients, bye",
	"not a valid recipient",
	"not a valid user here",
	"not a local address",
	"not email addresses",
	"recipient address rejected. (in reply to rcpt to command)",
	"recipient address rejected: access denied",
	"recipient address rejected: invalid user",
	"recipient address rejected: invalid-recipient",
	"recipient address rejected: unknown user",
	"recipient address rejected: userunknown",
	"recipient does not exist",
	"recipient is not accepted",
	"recipient is not local",
	"recipient not exist",
	"recipient not found",
	"recipient not ok",
	"recipient refuses to accept your mail",
	"recipient unknown",
	"requested action not taken: mailbox unavailable",
	"resolver.adr.recipient notfound",
	"sorry, user unknown",
	"sorry, badrcptto",
	"sorry, no mailbox here by that name",
	"sorry, your envelope recipient has been denied",
	"that domain or user isn't in my list of allowed rcpthosts",
	"the email account that you tried to reach does not exist",
	"the following recipients was undeliverable",
	"the user's email name is not found",
	"there is no one at this address",
	"this address no longer accepts mail",
	"this email address is wrong or no longer valid",
	"this recipient is in my badrecipientto list",
	"this recipient is not in my validrcptto list",
	"this spectator does not exist",
	"unknown mailbox",
	"unknown recipient",
	"unknown user",
	"user does not exist",
	"user missing home directory",
	"user not active",
	"user not exist",
	"user not found",
	"user not known",
	"user unknown",
	"utilisateur inconnu !",
	"vdeliver: invalid or unknown virtual user",
	"weil die adresse nicht gefunden wurde oder keine e-mails empfangen "
	"kann",
	"your envelope recipient is in my badrcptto list",
	"<" SEP "> not found",
	"<" SEP ">... blocked by ",
	"account " SEP " does not exist at the organization",
	"adresse d au moins un destinataire invalide. invalid recipient." SEP
	"416",
	"adresse d au moins un destinataire invalide. invalid recipient." SEP
	"418",
	"bad" SEP "recipient",
	"mailbox " SEP "does not exist",
	"mailbox " SEP "unavailable or access denied",
	"no " SEP " in name directory",
	"non" SEP "existent user",
	"rcpt <" SEP " does not exist",
	"rcpt (" SEP "t exist ",
	"recipient " SEP " was not found in",
	"recipient address rejected: user " SEP "  does not exist",
	"recipient address rejected: user unknown in " SEP "  table",
	"said: 550" SEP "5.1.1 " SEP " user unknown ",
	"this user doesn't have a " SEP " account",
	"unknown e" SEP "mail address",
	"unknown local" SEP "part",
	"user " SEP " was not found",
	"user " SEP " does not exist",
	"user (" SEP ") unknown",
	NULL
};

static const char *const p_vacation[] = {
	"i am away on vacation", "i am away until", "i am out of the office",
	"i will be traveling for work on", NULL
};

static const char *const p_virusdetected[] = {
	"it has a potentially executable attachment",
	"the message was rejected because it contains prohibited virus or "
	"spam content",
	"this form of attachment has been used by recent viruses or other "
	"malware",
	"virus detected",
	"virus phishing/malicious_url detected",
	"your message was infected with a virus",
	NULL
};

static const char *const p_none[] = { NULL };

/* Sorted by name: the taxonomy, with each reason's phrases. */
static const struct reason_def reasons[] = {
	{ "authfailure", p_authfailure },
	{ "badreputation", p_badreputation },
	{ "blocked", p_blocked },
	{ "contenterror", p_contenterror },
	{ "delivered", p_none },
	{ "exceedlimit", p_exceedlimit },
	{ "expired", p_expired },
	{ "failedstarttls", p_failedstarttls },
	{ "feedback", p_none },
	{ "filtered", p_filtered },
	{ "hasmoved", p_hasmoved },
	{ "hostunknown", p_hostunknown },
	{ "mailboxfull", p_mailboxfull },
	{ "mailererror", p_mailererror },
	{ "mesgtoobig", p_mesgtoobig },
	{ "networkerror", p_networkerror },
	{ "norelaying", p_norelaying },
	{ "notaccept", p_notaccept },
	{ "notcompliantrfc", p_notcompliantrfc },
	{ "onhold", p_none },
	{ "policyviolation", p_policyviolation },
	{ "rejected", p_rejected },
	{ "requireptr", p_requireptr },
	{ "securityerror", p_securityerror },
	{ "spamdetected", p_spamdetected },
	{ "speeding", p_speeding },
	{ "suppressed", p_none },
	{ "suspend", p_suspend },
	{ "syntaxerror", p_none },
	{ "systemerror", p_systemerror },
	{ "systemfull", p_systemfull },
	{ "toomanyconn", p_toomanyconn },
	{ "undefined", p_none },
	{ "userunknown", p_userunknown },
	{ "vacation", p_vacation },
	{ "virusdetected", p_virusdetected },
};

static int
reason_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct reason_def *)elem)->name);
}

static const struct reason_def *
reason_get(const char *name)
{
	return name ? bsearch(name, reasons, G_N_ELEMENTS(reasons),
			      sizeof(reasons[0]), reason_cmp)
		    : NULL;
}

int
dsn_reason_known(const char *name)
{
	return reason_get(name) != NULL;
}

/* The static copy of a reason name. */
static const char *
reason_name(const char *name)
{
	const struct reason_def *d = reason_get(name);

	return d ? d->name : NULL;
}

const char *
dsn_reason_class(const char *reason, const char *status)
{
	if (!reason)
		return "soft";
	if (strcmp(reason, "feedback") == 0 ||
	    strcmp(reason, "vacation") == 0 || strcmp(reason, "delivered") == 0)
		return "none";
	if (strcmp(reason, "userunknown") == 0 ||
	    strcmp(reason, "hostunknown") == 0 ||
	    strcmp(reason, "hasmoved") == 0)
		return "hard";
	if (strcmp(reason, "notaccept") == 0 &&
	    (!status || !*status || status[0] == '5'))
		return "hard";
	return "soft";
}

/* Does lc contain the pieces of phrase in order? */
static int
phrase_in(const char *lc, size_t len, const char *phrase)
{
	const char *p = lc, *end = lc + len;

	while (*phrase) {
		size_t n = strcspn(phrase, SEP);
		const char *hit = memmem(p, (size_t)(end - p), phrase, n);

		if (!hit)
			return 0;
		p = hit + n;
		phrase += n;
		if (*phrase)
			phrase++;
	}
	return 1;
}

/*
 * The trigram hashes of every phrase (dsn_tri_sig), computed once on first
 * use and never changed: a phrase is ruled out by table lookups alone,
 * without hashing it again for every recipient. A phrase with more than
 * REASON_SIG_MAX hashes keeps its first ones, which rule out fewer texts,
 * never a wrong one.
 */
#define REASON_SIG_MAX 24

struct reason_sig {
	guint16 h[REASON_SIG_MAX];
	size_t n;
};

struct reason_sigs {
	struct reason_sig *of[G_N_ELEMENTS(reasons)]; /* as reasons[].phrases */
	struct reason_sig *rejected_not;	      /* as p_rejected_not */
};

static struct reason_sig *
sigs_of(const char *const *phrases)
{
	size_t n = 0;
	struct reason_sig *sig;

	while (phrases[n])
		n++;
	sig = g_new(struct reason_sig, n + 1);
	for (size_t i = 0; i < n; i++)
		sig[i].n = dsn_tri_sig(phrases[i], sig[i].h, REASON_SIG_MAX);
	return sig;
}

static gpointer
sigs_build(gpointer unused)
{
	struct reason_sigs *s = g_new(struct reason_sigs, 1);

	(void)unused;
	for (size_t i = 0; i < G_N_ELEMENTS(reasons); i++)
		s->of[i] = sigs_of(reasons[i].phrases);
	s->rejected_not = sigs_of(p_rejected_not);
	return s;
}

static const struct reason_sigs *
reason_sigs(void)
{
	static GOnce once = G_ONCE_INIT;

	return g_once(&once, sigs_build, NULL);
}

/* dsn_tri_may for a phrase whose hashes are sig; t NULL: it may. */
static int
sig_may(const struct dsn_tri *t, const struct reason_sig *sig)
{
	if (!t)
		return 1;
	for (size_t k = 0; k < sig->n; k++)
		if (!dsn_tri_has(t, sig->h[k]))
			return 0;
	return 1;
}

static int
reason_def_says(const char *lc, size_t len, const struct dsn_tri *t,
		const struct reason_def *d)
{
	const struct reason_sigs *sigs;
	const struct reason_sig *sig;

	if (!d || len == 0)
		return 0;
	sigs = reason_sigs();
	if (d->phrases == p_rejected) {
		sig = sigs->rejected_not;
		for (const char *const *p = p_rejected_not; *p; p++, sig++)
			if (sig_may(t, sig) && phrase_in(lc, len, *p))
				return 0;
	}
	sig = sigs->of[d - reasons];
	for (const char *const *p = d->phrases; *p; p++, sig++)
		if (sig_may(t, sig) && phrase_in(lc, len, *p))
			return 1;
	return 0;
}

int
dsn_reason_says(const char *lc, const char *reason)
{
	return lc ? reason_def_says(lc, strlen(lc), NULL, reason_get(reason))
		  : 0;
}

const char *
dsn_reason_match(const char *lc, const char *const *order)
{
	for (const char *const *o = order; *o; o++)
		if (dsn_reason_says(lc, *o))
			return reason_name(*o);
	return NULL;
}

/* ---- status codes ----------------------------------------------------- */

struct status_def {
	const char *code;
	const char *reason;
};

/* RFC 3463 and its IANA registry, read as reasons; codes that say too
 * little (X.0.0, 4.3.0, 4.4.0, 4.5.0, 4.7.0) are absent on purpose. */
static const struct status_def statuses[] = {
	{ "2.1.5", "delivered" },	{ "4.1.6", "hasmoved" },
	{ "4.1.7", "rejected" },	{ "4.1.8", "rejected" },
	{ "4.1.9", "systemerror" },	{ "4.2.1", "blocked" },
	{ "4.2.2", "mailboxfull" },	{ "4.2.3", "exceedlimit" },
	{ "4.2.4", "filtered" },	{ "4.3.1", "systemfull" },
	{ "4.3.2", "notaccept" },	{ "4.3.3", "systemerror" },
	{ "4.3.5", "systemerror" },	{ "4.4.1", "expired" },
	{ "4.4.2", "networkerror" },	{ "4.4.3", "systemerror" },
	{ "4.4.4", "networkerror" },	{ "4.4.5", "systemfull" },
	{ "4.4.6", "networkerror" },	{ "4.4.7", "expired" },
	{ "4.4.8", "networkerror" },	{ "4.5.3", "systemerror" },
	{ "4.5.5", "systemerror" },	{ "4.6.0", "contenterror" },
	{ "4.6.2", "contenterror" },	{ "4.6.5", "contenterror" },
	{ "4.7.1", "blocked" },		{ "4.7.2", "blocked" },
	{ "4.7.5", "securityerror" },	{ "4.7.6", "securityerror" },
	{ "4.7.7", "securityerror" },	{ "4.7.12", "securityerror" },
	{ "4.7.15", "securityerror" },	{ "4.7.16", "mesgtoobig" },
	{ "4.7.24", "authfailure" },	{ "4.7.25", "requireptr" },
	{ "4.7.26", "authfailure" },	{ "5.1.0", "userunknown" },
	{ "5.1.1", "userunknown" },	{ "5.1.2", "hostunknown" },
	{ "5.1.3", "userunknown" },	{ "5.1.4", "filtered" },
	{ "5.1.6", "hasmoved" },	{ "5.1.7", "rejected" },
	{ "5.1.8", "rejected" },	{ "5.1.9", "systemerror" },
	{ "5.1.10", "notaccept" },	{ "5.2.0", "filtered" },
	{ "5.2.1", "filtered" },	{ "5.2.2", "mailboxfull" },
	{ "5.2.3", "exceedlimit" },	{ "5.2.4", "filtered" },
	{ "5.3.0", "systemerror" },	{ "5.3.1", "systemfull" },
	{ "5.3.2", "notaccept" },	{ "5.3.3", "systemerror" },
	{ "5.3.4", "mesgtoobig" },	{ "5.3.5", "systemerror" },
	{ "5.4.0", "networkerror" },	{ "5.4.3", "systemerror" },
	{ "5.4.4", "hostunknown" },	{ "5.5.2", "syntaxerror" },
	{ "5.5.3", "toomanyconn" },	{ "5.5.4", "systemerror" },
	{ "5.5.5", "systemerror" },	{ "5.5.6", "syntaxerror" },
	{ "5.6.0", "contenterror" },	{ "5.6.1", "contenterror" },
	{ "5.6.2", "contenterror" },	{ "5.6.3", "contenterror" },
	{ "5.6.5", "contenterror" },	{ "5.6.6", "contenterror" },
	{ "5.6.7", "contenterror" },	{ "5.6.8", "contenterror" },
	{ "5.6.9", "contenterror" },	{ "5.7.0", "securityerror" },
	{ "5.7.1", "securityerror" },	{ "5.7.2", "securityerror" },
	{ "5.7.3", "securityerror" },	{ "5.7.4", "securityerror" },
	{ "5.7.5", "securityerror" },	{ "5.7.6", "securityerror" },
	{ "5.7.7", "securityerror" },	{ "5.7.8", "securityerror" },
	{ "5.7.9", "securityerror" },	{ "5.7.10", "securityerror" },
	{ "5.7.11", "securityerror" },	{ "5.7.13", "suspend" },
	{ "5.7.14", "securityerror" },	{ "5.7.15", "securityerror" },
	{ "5.7.16", "mesgtoobig" },	{ "5.7.17", "hasmoved" },
	{ "5.7.18", "hasmoved" },	{ "5.7.19", "securityerror" },
	{ "5.7.20", "authfailure" },	{ "5.7.21", "authfailure" },
	{ "5.7.22", "authfailure" },	{ "5.7.23", "authfailure" },
	{ "5.7.24", "authfailure" },	{ "5.7.25", "requireptr" },
	{ "5.7.26", "authfailure" },	{ "5.7.27", "notaccept" },
	{ "5.7.28", "spamdetected" },	{ "5.7.29", "authfailure" },
	{ "5.7.30", "failedstarttls" },
};

const char *
dsn_reason_of_status(const char *status)
{
	if (!status)
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(statuses); i++)
		if (strcmp(statuses[i].code, status) == 0)
			return statuses[i].reason;
	return NULL;
}

/* ---- the decision ----------------------------------------------------- */

/* Reasons worth a second look: they are what a status code or a generic
 * recogniser says when it knows little. */
static int
reason_vague(const char *r)
{
	static const char *const v[] = { "undefined",	"onhold",
					 "systemerror", "securityerror",
					 "expired",	"networkerror",
					 "hostunknown", "userunknown",
					 NULL };

	for (const char *const *p = v; r && *p; p++)
		if (strcmp(r, *p) == 0)
			return 1;
	return r == NULL;
}

static int
reason_explicit(const char *r)
{
	return r && strcmp(r, "undefined") != 0 && strcmp(r, "onhold") != 0;
}

/* What a probe sees of one recipient. */
struct probe {
	const struct dsn_rcpt *rc;
	const char *lc; /* lower-case diagnostic */
	size_t len;
	struct dsn_tri tri;  /* its trigrams */
	const char *sreason; /* the status code's reason */
	const char *cmd;     /* "" when unknown */
	char reply[4];
	/* What each reason of reasons[] was found to say: -1 not asked
	 * yet (the probes ask some reasons several times). */
	signed char *memo;
};

static int
says(const struct probe *p, const char *reason)
{
	const struct reason_def *d = reason_get(reason);
	size_t i;

	if (!d)
		return 0;
	i = (size_t)(d - reasons);
	if (p->memo[i] < 0)
		p->memo[i] =
			(signed char)reason_def_says(p->lc, p->len, &p->tri, d);
	return p->memo[i];
}

static const char *
match(const struct probe *p, const char *const *order)
{
	for (const char *const *o = order; *o; o++)
		if (says(p, *o))
			return reason_name(*o);
	return NULL;
}

static int
cmd_before_data(const char *cmd)
{
	return strcmp(cmd, "CONN") == 0 || strcmp(cmd, "EHLO") == 0 ||
	       strcmp(cmd, "HELO") == 0 || strcmp(cmd, "MAIL") == 0 ||
	       strcmp(cmd, "RCPT") == 0;
}

static int
sr_is(const struct probe *p, const char *r)
{
	return p->sreason && strcmp(p->sreason, r) == 0;
}

static int
probe_userunknown(const struct probe *p)
{
	/* A 5.1.1 is not always a missing mailbox: some providers answer
	 * rate limits and relay refusals with it; the words decide. */
	static const char *const other[] = {
		"norelaying", "blocked",  "mailboxfull", "hasmoved", "rejected",
		"notaccept",  "speeding", "toomanyconn", NULL
	};

	if (sr_is(p, "userunknown"))
		return match(p, other) == NULL;
	return strcmp(p->cmd, "RCPT") == 0 && says(p, "userunknown");
}

static int
probe_filtered(const struct probe *p)
{
	if (sr_is(p, "filtered"))
		return says(p, "userunknown") || says(p, "filtered");
	if (cmd_before_data(p->cmd))
		return 0;
	return says(p, "filtered") || says(p, "userunknown");
}

static int
probe_rejected(const struct probe *p)
{
	if (sr_is(p, "rejected"))
		return 1;
	if (strcmp(p->cmd, "MAIL") == 0)
		return says(p, "rejected");
	if (strcmp(p->cmd, "DATA") == 0 && !sr_is(p, "userunknown"))
		return says(p, "rejected");
	if (!p->sreason || sr_is(p, "securityerror") || sr_is(p, "systemerror"))
		return says(p, "rejected");
	return 0;
}

static int
probe_hostunknown(const struct probe *p)
{
	if (sr_is(p, "hostunknown"))
		return !says(p, "networkerror");
	return says(p, "hostunknown");
}

static int
probe_spamdetected(const struct probe *p)
{
	if (!p->rc->status || !*p->rc->status)
		return 0;
	if (sr_is(p, "spamdetected"))
		return 1;
	if (cmd_before_data(p->cmd))
		return 0;
	return says(p, "spamdetected");
}

static int
probe_status_or_text(const struct probe *p, const char *r)
{
	return sr_is(p, r) || says(p, r);
}

/* X.2.3 is the per-mailbox size limit (RFC 3463), whatever the words. */
static int
probe_status(const struct probe *p, const char *r)
{
	return sr_is(p, r);
}

static int
probe_text(const struct probe *p, const char *r)
{
	return says(p, r);
}

static int
probe_suspend(const struct probe *p, const char *r)
{
	return strcmp(p->reply, "525") == 0 || says(p, r);
}

static int
probe_norelaying(const struct probe *p, const char *r)
{
	return strcmp(p->cmd, "CONN") && strcmp(p->cmd, "EHLO") &&
	       strcmp(p->cmd, "HELO") && says(p, r);
}

static int
probe_contenterror(const struct probe *p, const char *r)
{
	return !probe_spamdetected(p) && probe_status_or_text(p, r);
}

static int
probe_rule(const struct probe *p, const char *r)
{
	if (strcmp(r, "userunknown") == 0)
		return probe_userunknown(p);
	if (strcmp(r, "filtered") == 0)
		return probe_filtered(p);
	if (strcmp(r, "rejected") == 0)
		return probe_rejected(p);
	if (strcmp(r, "hostunknown") == 0)
		return probe_hostunknown(p);
	return probe_spamdetected(p);
}

/* The first pass: each reason in turn with the rule that fits it; a reason
 * a recogniser already set wins when its turn comes. */
static const char *
probe_first(const struct probe *p)
{
	static const struct {
		const char *reason;
		int (*fn)(const struct probe *, const char *);
	} order[] = {
		{ "mailboxfull", probe_status_or_text },
		{ "exceedlimit", probe_status },
		{ "mesgtoobig", probe_status_or_text },
		{ "exceedlimit", probe_status_or_text },
		{ "suspend", probe_suspend },
		{ "hasmoved", probe_text },
		{ "norelaying", probe_norelaying },
		{ "authfailure", probe_status_or_text },
		{ "userunknown", probe_rule },
		{ "filtered", probe_rule },
		{ "requireptr", probe_status_or_text },
		{ "notcompliantrfc", probe_text },
		{ "badreputation", probe_text },
		{ "contenterror", probe_contenterror },
		{ "rejected", probe_rule },
		{ "hostunknown", probe_rule },
		{ "spamdetected", probe_rule },
		{ "speeding", probe_text },
		{ "toomanyconn", probe_status_or_text },
		{ "blocked", probe_status_or_text },
	};
	const char *pre = p->rc->reason;

	for (size_t i = 0; i < G_N_ELEMENTS(order); i++)
		if ((pre && strcmp(pre, order[i].reason) == 0) ||
		    order[i].fn(p, order[i].reason))
			return order[i].reason;
	return NULL;
}

/* The second pass, when the first found nothing: the text alone, then the
 * status code, then the shape of the transaction. */
static const char *
probe_second(const struct probe *p)
{
	static const char *const order[] = {
		"mailboxfull",	   "authfailure",
		"badreputation",   "speeding",
		"spamdetected",	   "virusdetected",
		"policyviolation", "norelaying",
		"systemerror",	   "networkerror",
		"suspend",	   "contenterror",
		"systemfull",	   "notaccept",
		"expired",	   "failedstarttls",
		"securityerror",   "suppressed",
		"mailererror",	   NULL
	};
	const struct dsn_rcpt *rc = p->rc;
	const char *st = rc->status ? rc->status : "";
	const char *spec = rc->spec ? rc->spec : "smtp";
	const char *r;
	int code;

	if (reason_explicit(rc->reason))
		return rc->reason;
	if (!reason_vague(p->sreason) && strcmp(spec, "smtp") == 0)
		return p->sreason;
	r = match(p, order);
	if (r)
		return r;
	if (p->sreason)
		return p->sreason;
	if (g_str_has_prefix(st, "5.6") || g_str_has_prefix(st, "4.6"))
		return "contenterror";
	if (g_str_has_prefix(st, "5.7") || g_str_has_prefix(st, "4.7"))
		return "securityerror";
	if (g_str_has_prefix(spec, "x-unix"))
		return "mailererror";
	code = atoi(p->reply);
	if ((code > 400 && code < 408) || (code > 500 && code < 508))
		return "syntaxerror";
	if (rc->action && (strcmp(rc->action, "delayed") == 0 ||
			   strcmp(rc->action, "expired") == 0))
		return "expired";
	/* Refused at the greeting or the introduction: the client is
	 * blocked. */
	if (strcmp(p->cmd, "EHLO") == 0 || strcmp(p->cmd, "HELO") == 0 ||
	    strcmp(p->cmd, "CONN") == 0)
		return "blocked";
	return NULL;
}

/* The trigrams first: most diagnostics name no delivery agent. */
static int
lda_has(const struct probe *p, const char *name)
{
	return dsn_tri_may(&p->tri, name) && strstr(p->lc, name);
}

/* Local delivery agents say what went wrong in their own words. */
static const char *
reason_lda(const struct probe *p)
{
	static const struct {
		const char *agent, *says, *reason;
	} tab[] = {
		{ "> was automatically rejected:", "quota exceeded",
		  "mailboxfull" },
		{ "> was automatically rejected:", "not enough disk space",
		  "mailboxfull" },
		{ "> was automatically rejected:", "mailbox doesn't exist: ",
		  "userunknown" },
		{ "mail.local: ", "quota exceeded", "mailboxfull" },
		{ "mail.local: ", "temporary file write error", "systemerror" },
		{ "mail.local: ", "unknown user", "userunknown" },
		{ "mail.local: ", "user unknown", "userunknown" },
		{ "mail.local: ", "invalid mailbox path", "userunknown" },
		{ "mail.local: ", "user missing home directory",
		  "userunknown" },
		{ "procmail", "quota exceeded while writing", "mailboxfull" },
		{ "procmail", "user over quota", "mailboxfull" },
		{ "procmail", "service unavailable", "systemerror" },
		{ "procmail", "no space left to finish writing", "systemfull" },
		{ "maildrop: ", "maildir over quota.", "mailboxfull" },
		{ "maildrop: ", "cannot find system user", "userunknown" },
		{ "maildrop: ", "invalid user specified.", "userunknown" },
		{ "vdelivermail: ", "user does not exist, but will deliver to ",
		  "filtered" },
		{ "vdelivermail: ", "is over quota", "mailboxfull" },
		{ "vdelivermail: ", "account is locked email bounced",
		  "suspend" },
		{ "vdelivermail: ", "sorry, no mailbox here by that name.",
		  "userunknown" },
		{ "vdeliver: ", "system quota violation", "mailboxfull" },
		{ "vdeliver: ", "invalid or unknown", "userunknown" },
		{ "vdeliver: ", "does not refer to a virtual user",
		  "userunknown" },
	};
	int agent = 0;

	if (!*p->lc || (*p->cmd && strcmp(p->cmd, "DATA") != 0))
		return NULL;
	if (!lda_has(p, "automatically rejected:") &&
	    !lda_has(p, "mail.local: ") && !lda_has(p, "procmail") &&
	    !lda_has(p, "maildrop: ") && !lda_has(p, "vdeliver"))
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(tab); i++) {
		if (!strstr(p->lc, tab[i].agent))
			continue;
		agent = 1;
		if (strstr(p->lc, tab[i].says))
			return tab[i].reason;
	}
	return agent && strstr(p->lc, "procmail: ") ? "mailererror" : NULL;
}

const char *
dsn_reason_decide(const struct dsn_rcpt *rc)
{
	struct probe p;
	signed char memo[G_N_ELEMENTS(reasons)];
	char *both, *lc;
	const char *r = NULL;

	if (rc->reason && !reason_vague(rc->reason))
		return reason_name(rc->reason);
	if ((rc->status && rc->status[0] == '2') ||
	    (rc->action && (strcmp(rc->action, "delivered") == 0 ||
			    strcmp(rc->action, "relayed") == 0 ||
			    strcmp(rc->action, "expanded") == 0)))
		return reason_name("delivered");
	/* What the probes see, built only when they are asked. */
	both = g_strconcat(rc->context ? rc->context : "", " ",
			   rc->diag ? rc->diag : "", NULL);
	lc = dsn_lower(both, strlen(both));
	g_free(both);
	memset(memo, -1, sizeof(memo));
	p.memo = memo;
	p.rc = rc;
	p.cmd = rc->command ? rc->command : "";
	p.lc = lc;
	p.len = strlen(lc);
	dsn_tri_fill(&p.tri, lc, p.len);
	p.sreason = dsn_reason_of_status(rc->status);
	if (!dsn_reply_find(lc, strlen(lc), p.reply))
		p.reply[0] = '\0';
	r = reason_lda(&p);
	if (!r)
		r = dsn_rhost_reason(rc, lc);
	if (!r)
		r = probe_first(&p);
	if (!r)
		r = probe_second(&p);
	if (!r && rc->action && strcmp(rc->action, "delayed") == 0)
		r = "expired";
	if (!r && dsn_reason_says(lc, "vacation"))
		r = "vacation";
	if (!r)
		r = *lc ? "onhold" : "undefined";
	g_free(lc);
	return reason_name(r);
}
