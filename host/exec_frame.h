/* The exec stream's framing (docs/api.md, "Exec"): after the HTTP upgrade
 * both directions carry frames of 1 byte type + 4 bytes big-endian length
 * + payload (at most EXEC_FRAME_MAX). Shared by podvmd (daemon/exec.c) and
 * the CLI (cli/exec.c); both treat the peer as hostile. */
#ifndef PODVM_HOST_EXEC_FRAME_H
#define PODVM_HOST_EXEC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXEC_UPGRADE_PROTO "podvm-exec.v1"
#define EXEC_FRAME_HDR   5
#define EXEC_FRAME_MAX   (64 * 1024)
#define EXEC_ERROR_MAX   1024

enum exec_frame_type {
	EXEC_F_STDIN = 0,      /* client -> server, raw */
	EXEC_F_STDOUT = 1,     /* server -> client, raw */
	EXEC_F_STDERR = 2,     /* server -> client, raw */
	EXEC_F_RESIZE = 3,     /* client -> server, {"rows":N,"cols":N} */
	EXEC_F_EXIT = 4,       /* server -> client, {"exitCode":N[,"signal":N][,"error":S]} */
	EXEC_F_STDIN_EOF = 5,  /* client -> server, empty */
	EXEC_F_TYPE_MAX = 5,
};

struct exec_frame {
	uint8_t type;
	const uint8_t *payload;  /* points into the caller's buffer */
	size_t len;
};

/* Encode a header; -EINVAL (type) or -EMSGSIZE (len). */
int exec_frame_header(uint8_t hdr[EXEC_FRAME_HDR], unsigned type, size_t len);
/* One frame from buf[0..n): 1 with *f and *used set, 0 when incomplete,
 * -EPROTO (unknown type) or -EMSGSIZE (too long) as soon as the header is
 * in. */
int exec_frame_next(const uint8_t *buf, size_t n, struct exec_frame *f,
		    size_t *used);

/* Payloads. The encoders return malloc'd JSON text or NULL (ENOMEM). */
char *exec_frame_resize_json(uint16_t rows, uint16_t cols);
/* rows, cols 1..65535, no other keys; 0 or -EINVAL. */
int exec_frame_resize_parse(const uint8_t *p, size_t n, uint16_t *rows,
			    uint16_t *cols);
char *exec_frame_exit_json(int exit_code, int signal, const char *error);
/* exitCode 0..255 required, signal 0..64, error < EXEC_ERROR_MAX bytes
 * ("" when absent); 0 or -EINVAL. */
int exec_frame_exit_parse(const uint8_t *p, size_t n, int *exit_code,
			  int *signal, char *error, size_t errlen);

#endif
