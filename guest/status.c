/* Wait status -> container exit code and reason, Kubernetes-style:
 * exit N -> exitCode N; killed by signal S -> exitCode 128+S, signal S;
 * reason "Completed" for exit code 0, "Error" otherwise. */
#include "guest/guest.h"

#include <sys/wait.h>

void guest_exit_from_status(int wstatus, struct guest_exit *out)
{
	out->signal = 0;
	if (WIFEXITED(wstatus)) {
		out->exit_code = WEXITSTATUS(wstatus);
	} else if (WIFSIGNALED(wstatus)) {
		out->signal = WTERMSIG(wstatus);
		out->exit_code = 128 + out->signal;
		if (out->exit_code > 255)
			out->exit_code = 255;
	} else {
		out->exit_code = 255;  /* stopped/continued: not a final status */
	}
	out->reason = out->exit_code == 0 ? "Completed" : "Error";
}
