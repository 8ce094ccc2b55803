/* Diagnostics for the host's console log: /dev/console is ttyS0, which
 * the VMM writes to the per-pod console file. One line per message,
 * prefixed "podvm-init: ". */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int guest_console_fd = -1;

void guest_console_open(void)
{
	int fd, nul;

	if (guest_console_fd < 0) {
		fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0)
			guest_console_fd = fd;
	}
	/* Keep fds 0-2 occupied so nothing we open later (the port, pipes)
	 * lands there and catches a stray write from libc. */
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0)
		return;
	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
			dup2(nul, fd);
	if (nul > 2)
		close(nul);
}

void guest_diag(const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n, fd = guest_console_fd >= 0 ? guest_console_fd : 2;
	size_t len;

	n = snprintf(line, sizeof(line), "podvm-init: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	len = strlen(line);
	line[len++] = '\n';
	/* Best effort: the console is the last resort for errors. */
	if (write(fd, line, len) < 0)
		return;
}

static int64_t guest_clock_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t guest_now_ms(void)
{
	return guest_clock_ms(CLOCK_MONOTONIC);
}

int64_t guest_wall_ms(void)
{
	return guest_clock_ms(CLOCK_REALTIME);
}
