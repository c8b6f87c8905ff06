/*
 * fdio: whole reads and writes on a file descriptor, retried on EINTR and
 * on short transfers, for the places that speak to files, pipes and
 * sockets without a library in between (the spool, the policy service).
 *
 * Both return 0 once len bytes moved, -1 otherwise with errno set (EIO
 * for a write that moved nothing, 0 for a read at end of file before len
 * bytes). Blocking descriptors only.
 */
#ifndef FBLD_FDIO_H
#define FBLD_FDIO_H

#include <stddef.h>

int fd_write_all(int fd, const void *buf, size_t len);
int fd_read_full(int fd, void *buf, size_t len);

#endif
