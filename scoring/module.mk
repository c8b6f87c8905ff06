LIB_SRCS += scoring/actions.c scoring/webhook.c scoring/accounts.c scoring/render.c scoring/digest.c scoring/outbox.c scoring/admin.c
