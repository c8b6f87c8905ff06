# tracking/: the engagement endpoint (open pixel, click redirect, one-click
# unsubscribe), machine-hit detection and the write queue.
LIB_SRCS += tracking/classify.c tracking/form.c tracking/writer.c \
	tracking/config.c tracking/endpoint.c
