/* The standard process_* families (as every Prometheus client library
 * exports them) from /proc/self, and the /proc/net/dev parser the
 * collector uses for pod taps. */
#include "daemon/metrics_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Read a small /proc file into buf (NUL-terminated); bytes or -errno. */
static ssize_t proc_read(const char *path, char *buf, size_t len)
{
	ssize_t n, got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return got;
}

/* Boot time from /proc/stat "btime"; cached: it never changes. */
static long long proc_btime(void)
{
	static long long btime = -1;
	char buf[8192], *p;

	if (btime >= 0)
		return btime;
	if (proc_read("/proc/stat", buf, sizeof(buf)) <= 0)
		return 0;
	p = strstr(buf, "\nbtime ");
	if (p)
		btime = strtoll(p + 7, NULL, 10);
	return btime > 0 ? btime : 0;
}

struct proc_self {
	bool ok;
	double cpu_s;
	double start_s;
	uint64_t vsize, rss;
};

/* /proc/self/stat: the command name may hold spaces and ')' -- fields are
 * counted from the last ')'. */
static void proc_self_stat(struct proc_self *ps)
{
	char buf[2048], *p, *save = NULL, *tok;
	unsigned long long utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	int field = 3;   /* the field after ") " is field 3 (state) */

	memset(ps, 0, sizeof(*ps));
	if (proc_read("/proc/self/stat", buf, sizeof(buf)) <= 0)
		return;
	p = strrchr(buf, ')');
	if (!p || tck <= 0 || page <= 0)
		return;
	for (tok = strtok_r(p + 1, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save), field++) {
		switch (field) {
		case 14: utime = strtoull(tok, NULL, 10); break;
		case 15: stime = strtoull(tok, NULL, 10); break;
		case 22: start = strtoull(tok, NULL, 10); break;
		case 23: vsize = strtoull(tok, NULL, 10); break;
		case 24: rss = strtoull(tok, NULL, 10); break;
		default: break;
		}
		if (field == 24)
			break;
	}
	if (field < 24)
		return;
	ps->cpu_s = (double)(utime + stime) / (double)tck;
	ps->start_s = (double)proc_btime() + (double)start / (double)tck;
	ps->vsize = vsize;
	ps->rss = rss * (unsigned long long)page;
	ps->ok = true;
}

static long proc_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	long n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the directory stream's own fd */
}

static void proc_family(struct metrics_buf *b, const char *name,
			const char *type, const char *help)
{
	metrics_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_render_process(struct metrics_buf *b)
{
	struct proc_self ps;
	struct rlimit rl;
	long fds = proc_open_fds();

	proc_self_stat(&ps);
	proc_family(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
	if (ps.ok)
		metrics_buf_printf(b, "process_cpu_seconds_total %.2f\n", ps.cpu_s);
	proc_family(b, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
	if (ps.ok) {
		metrics_buf_puts(b, "process_resident_memory_bytes ");
		metrics_buf_u64(b, ps.rss);
		metrics_buf_puts(b, "\n");
	}
	proc_family(b, "process_virtual_memory_bytes", "gauge",
		    "Virtual memory size in bytes.");
	if (ps.ok) {
		metrics_buf_puts(b, "process_virtual_memory_bytes ");
		metrics_buf_u64(b, ps.vsize);
		metrics_buf_puts(b, "\n");
	}
	proc_family(b, "process_start_time_seconds", "gauge",
		    "Start time of the process since unix epoch in seconds.");
	if (ps.ok)
		metrics_buf_printf(b, "process_start_time_seconds %.2f\n", ps.start_s);
	proc_family(b, "process_open_fds", "gauge", "Number of open file descriptors.");
	if (fds >= 0)
		metrics_buf_printf(b, "process_open_fds %ld\n", fds);
	proc_family(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		metrics_buf_puts(b, "process_max_fds ");
		metrics_buf_u64(b, rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX
							       : (uint64_t)rl.rlim_cur);
		metrics_buf_puts(b, "\n");
	}
}

/* "  tap0: rxb rxp rxerr rxdrop fifo frame compressed multicast txb txp
 *  txerr txdrop ..." -- the interface name ends at ':' (it may be followed
 *  directly by a number). */
int metrics_netdev_parse(const char *text, const char *ifname,
			 struct metrics_net *out)
{
	size_t ilen = strlen(ifname);
	const char *line = text;

	if (!ilen || ilen >= METRICS_IFNAME_MAX)
		return -EINVAL;
	while (line && *line) {
		const char *s = line, *nl = strchr(line, '\n');
		unsigned long long v[16];
		const char *p;
		char *end;
		int n = 0;

		while (*s == ' ')
			s++;
		line = nl ? nl + 1 : NULL;
		if (strncmp(s, ifname, ilen) || s[ilen] != ':')
			continue;
		p = s + ilen + 1;
		while (n < 16) {
			while (*p == ' ')
				p++;
			if (*p < '0' || *p > '9')
				break;
			errno = 0;
			v[n] = strtoull(p, &end, 10);
			if (errno || end == p)
				break;
			p = end;
			n++;
		}
		if (n < 12)
			return -EPROTO;
		/* host tap: rx = what the guest sent, tx = what it receives */
		out->rx_bytes = v[8];
		out->rx_packets = v[9];
		out->rx_drops = v[11];
		out->tx_bytes = v[0];
		out->tx_packets = v[1];
		out->tx_drops = v[3];
		return 0;
	}
	return -ENOENT;
}
