/* Image -> erofs conversion: unpack the layers in order into a temp tree
 * under STATE_DIR/images/tmp, then mkfs.erofs it into a temp file that is
 * renamed into place. Callers hold the per-image lock (images/store.c). */
#include "images/layer.h"
#include "images/store_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EROFS_TOOL "mkfs.erofs"

/* Run argv (no shell); stderr of the tool is kept for the message. */
static int run_tool(char *const argv[], struct pv_err *err)
{
	char msg[512];
	size_t got = 0;
	int pipefd[2] = { -1, -1 };
	int status, ret;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return pv_err_sys(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		ret = pv_err_sys(err, errno, "fork");
		goto out;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
		}
		dup2(pipefd[1], STDERR_FILENO);
		execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	for (;;) {
		char junk[256];

		if (got < sizeof(msg) - 1)
			n = read(pipefd[0], msg + got, sizeof(msg) - 1 - got);
		else
			n = read(pipefd[0], junk, sizeof(junk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got < sizeof(msg) - 1)
			got += (size_t)n;
	}
	msg[got] = '\0';
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = pv_err_sys(err, errno, "waitpid %s", argv[0]);
			goto out;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* Last line of the tool's output says what went wrong. */
		while (got > 0 && (msg[got - 1] == '\n' || msg[got - 1] == ' '))
			msg[--got] = '\0';
		ret = pv_err_set(err, EIO, "%s failed (%s %d)%s%s", argv[0],
				 WIFEXITED(status) ? "exit" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				 got ? ": " : "",
				 strrchr(msg, '\n') ? strrchr(msg, '\n') + 1 : msg);
		goto out;
	}
	ret = 0;
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return ret;
}

/* The image's layers, in order, into a new rootfs directory. */
static int erofs_unpack_layers(struct image_store *s,
			       const struct image_layer_desc *layers,
			       size_t n_layers, const char *rootfs,
			       struct pv_err *err)
{
	struct layer_limits lim = { LAYER_MAX_BYTES, LAYER_MAX_ENTRIES };
	struct layer_usage usage = { 0, 0, 0 };
	char layer[IMAGE_PATH_MAX];
	int ret;

	if (mkdir(rootfs, 0755) < 0)
		return pv_err_sys(err, errno, "create %s", rootfs);
	for (size_t i = 0; i < n_layers; i++) {
		ret = image_blob_path(s, layers[i].digest, layer, sizeof(layer), err);
		if (ret < 0)
			return ret;
		ret = layer_unpack(layer, rootfs, &lim, &usage, err);
		if (ret < 0) {
			pv_err_prefix(err, "layer %zu (%.19s)", i + 1,
				      layers[i].digest);
			return ret;
		}
	}
	return 0;
}

int image_erofs_build(struct image_store *s, const char *manifest_digest,
		      const char *out_path, struct pv_err *err)
{
	char tree[IMAGE_PATH_MAX], rootfs[IMAGE_PATH_MAX], tmpimg[IMAGE_PATH_MAX];
	char cfg_digest[IMAGE_DIGEST_MAX];
	struct image_layer_desc *layers = NULL;
	size_t n_layers = 0, mlen;
	char *manifest = NULL;
	int fd = -1, have_tree = 0, have_img = 0, ret;

	ret = image_blob_read(s, manifest_digest, IMAGE_JSON_MAX, &manifest,
			      &mlen, err);
	if (ret < 0)
		goto out;
	ret = image_manifest_parse(manifest, mlen, cfg_digest, &layers,
				   &n_layers, err);
	if (ret < 0)
		goto out;

	ret = image_path(tree, sizeof(tree), err, "%s/tmp/%s-erofs-%.12s.XXXXXX", s->root,
			 image_tmp_owner(), manifest_digest + 7);
	if (ret < 0)
		goto out;
	if (!mkdtemp(tree)) {
		ret = pv_err_sys(err, errno, "create %s", tree);
		goto out;
	}
	have_tree = 1;
	ret = image_path(rootfs, sizeof(rootfs), err, "%s/rootfs", tree);
	if (ret == 0)
		ret = erofs_unpack_layers(s, layers, n_layers, rootfs, err);
	if (ret < 0)
		goto out;

	ret = image_path(tmpimg, sizeof(tmpimg), err, "%s/image.erofs", tree);
	if (ret < 0)
		goto out;
	{
		/* Uncompressed: the guest reads it directly, which beats
		 * decompressing under TCG. Owners and modes are kept. */
		char *argv[] = { EROFS_TOOL, "--quiet", tmpimg, rootfs, NULL };

		ret = run_tool(argv, err);
		if (ret < 0)
			goto out;
	}
	have_img = 1;
	fd = open(tmpimg, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		ret = pv_err_sys(err, errno, "fsync %s", tmpimg);
		goto out;
	}
	if (rename(tmpimg, out_path) < 0) {
		ret = pv_err_sys(err, errno, "rename %s to %s", tmpimg, out_path);
		goto out;
	}
	have_img = 0;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (have_img)
		unlink(tmpimg);
	if (have_tree) {
		struct pv_err e2;

		if (layer_remove_tree(tree, &e2) < 0 && ret == 0)
			ret = pv_err_set(err, e2.errnum, "%s", e2.msg);
	}
	free(layers);
	free(manifest);
	return ret;
}
