/* Signal names as container runtimes parse them (an image's StopSignal):
 * "SIGUSR1", "usr1", "10", "SIGRTMIN+3" (RTMIN is 34, RTMAX 64, as in
 * glibc and Docker). */
#include "pod/pod.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define POD_SIG_RTMIN 34
#define POD_SIG_RTMAX 64

static const struct { const char *name; int sig; } pod_signals[] = {
	{ "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "BUS", SIGBUS },
	{ "CHLD", SIGCHLD }, { "CLD", SIGCHLD }, { "CONT", SIGCONT },
	{ "FPE", SIGFPE }, { "HUP", SIGHUP }, { "ILL", SIGILL },
	{ "INT", SIGINT }, { "IO", SIGIO }, { "IOT", SIGIOT },
	{ "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "POLL", SIGPOLL },
	{ "PROF", SIGPROF }, { "PWR", SIGPWR }, { "QUIT", SIGQUIT },
	{ "SEGV", SIGSEGV }, { "STKFLT", SIGSTKFLT }, { "STOP", SIGSTOP },
	{ "SYS", SIGSYS }, { "TERM", SIGTERM }, { "TRAP", SIGTRAP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	{ "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH }, { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ },
};

/* "N" in [lo, hi], digits only. */
static int pod_sig_num(const char *s, int lo, int hi)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	v = strtol(s, &end, 10);
	return *end || v < lo || v > hi ? -EINVAL : (int)v;
}

int pod_signal_parse(const char *s)
{
	int n;

	if (!s || !*s || strlen(s) > 16)
		return -EINVAL;
	if (isdigit((unsigned char)*s))
		return pod_sig_num(s, 1, POD_SIG_RTMAX);
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(pod_signals) / sizeof(pod_signals[0]); i++)
		if (strcasecmp(s, pod_signals[i].name) == 0)
			return pod_signals[i].sig;
	if (strcasecmp(s, "RTMIN") == 0)
		return POD_SIG_RTMIN;
	if (strcasecmp(s, "RTMAX") == 0)
		return POD_SIG_RTMAX;
	if (strncasecmp(s, "RTMIN+", 6) == 0 && (n = pod_sig_num(s + 6, 1, 15)) > 0)
		return POD_SIG_RTMIN + n;
	if (strncasecmp(s, "RTMAX-", 6) == 0 && (n = pod_sig_num(s + 6, 1, 14)) > 0)
		return POD_SIG_RTMAX - n;
	return -EINVAL;
}
