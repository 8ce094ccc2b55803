/* The API server's life: its listening sockets (a unix socket guarded by
 * its file mode, optional TCP with a bearer token and TLS), the token and
 * PEM files, starting and stopping. Requests are handled in
 * api/server.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api_priv.h"
#include "host/log.h"
#include "util/util.h"

#define API_PEM_MAX        (64 * 1024)

static int api_unix_listen(const char *path, int *out, struct pv_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat stt;
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd = -1, probe = -1, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		ret = pv_err_set(err, ENAMETOOLONG, "socket path too long: %s", path);
		goto out;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		ret = util_mkdir_p(dir, 0755, err);
		if (ret < 0)
			goto out;
	}
	if (lstat(path, &stt) == 0) {
		if (!S_ISSOCK(stt.st_mode)) {
			ret = pv_err_set(err, EEXIST, "%s exists and is not a socket",
					 path);
			goto out;
		}
		/* A live daemon answers; only a stale socket is removed. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa,
					  sizeof(sa)) == 0) {
			ret = pv_err_set(err, EADDRINUSE, "%s: another podvmd is "
					 "listening", path);
			goto out;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			ret = pv_err_sys(err, errno, "unlink %s", path);
			goto out;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = pv_err_sys(err, errno, "socket");
		goto out;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = pv_err_sys(err, errno, "bind %s", path);
		goto out;
	}
	if (chmod(path, 0660) < 0 || listen(fd, 128) < 0) {
		ret = pv_err_sys(err, errno, "listen %s", path);
		unlink(path);
		goto out;
	}
	*out = fd;
	fd = -1;
	ret = 0;
out:
	if (probe >= 0)
		close(probe);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* "HOST:PORT", "[V6]:PORT"; HOST numeric or "localhost". */
int api_parse_hostport(const char *opt, const char *spec, long min_port,
		       struct sockaddr_storage *ss, socklen_t *sl, bool *loopback,
		       struct pv_err *err)
{
	char host[64];
	const char *colon, *hs = spec, *he;
	char *end = NULL;
	long port;

	colon = strrchr(spec, ':');
	if (!colon)
		return pv_err_set(err, EINVAL, "%s %s: want HOST:PORT", opt, spec);
	he = colon;
	if (spec[0] == '[') {
		hs = spec + 1;
		if (colon == spec || colon[-1] != ']')
			return pv_err_set(err, EINVAL, "%s %s: bad [IPv6]", opt, spec);
		he = colon - 1;
	}
	if ((size_t)(he - hs) >= sizeof(host) || he == hs)
		return pv_err_set(err, EINVAL, "%s %s: bad host", opt, spec);
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || !*(colon + 1) || *end || port < min_port || port > 65535)
		return pv_err_set(err, EINVAL, "%s %s: bad port", opt, spec);
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return pv_err_set(err, EINVAL, "%s %s: bad IPv6", opt, spec);
		if (loopback)
			*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
		*sl = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return pv_err_set(err, EINVAL, "%s %s: host must be "
					  "a numeric address", opt, spec);
		if (loopback)
			*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
		*sl = sizeof(*a4);
	}
	return 0;
}

static int api_tcp_listen(const struct sockaddr_storage *ss, socklen_t sl,
			  const char *spec, int *out, struct pv_err *err)
{
	int fd, one = 1, ret;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pv_err_sys(err, errno, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)ss, sl) < 0 || listen(fd, 128) < 0) {
		ret = pv_err_sys(err, errno, "listen on %s", spec);
		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}
static int api_read_token(const char *file, char **out, struct pv_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	ret = util_read_file(file, API_TOKEN_MAX, &buf, &len, err);
	if (ret < 0)
		return ret;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
		       buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (buf[i] <= ' ' || buf[i] > '~') {
			free(buf);
			return pv_err_set(err, EINVAL, "%s: the token must be "
					  "printable ASCII without spaces", file);
		}
	}
	if (len < 16) {
		free(buf);
		return pv_err_set(err, EINVAL, "%s: the token is shorter than "
				  "16 characters", file);
	}
	*out = buf;
	return 0;
}

/* --listen, --token-file and the TLS files into srv; *ss: the TCP
 * address when cfg->listen is given. */
static int api_load_config(struct api_server *srv, const struct api_config *cfg,
			   struct sockaddr_storage *ss, socklen_t *sl,
			   struct pv_err *err)
{
	bool loopback = true;
	size_t n;
	int ret;

	if (cfg->listen) {
		ret = api_parse_hostport("--listen", cfg->listen, 1, ss, sl, &loopback,
					 err);
		if (ret < 0)
			return ret;
		snprintf(srv->addr, sizeof(srv->addr), "%s", cfg->listen);
		if (!loopback && !cfg->token_file)
			return pv_err_set(err, EPERM, "--listen %s is not a loopback "
					  "address: --token-file is required",
					  cfg->listen);
	}
	if (cfg->token_file) {
		ret = api_read_token(cfg->token_file, &srv->token, err);
		if (ret < 0)
			return ret;
	}
	if (!cfg->tls_cert_file != !cfg->tls_key_file)
		return pv_err_set(err, EINVAL, "--tls-cert-file and --tls-key-file "
				  "go together");
	if (cfg->tls_cert_file) {
		ret = util_read_file(cfg->tls_cert_file, API_PEM_MAX, &srv->tls_cert,
				     &n, err);
		if (ret == 0)
			ret = util_read_file(cfg->tls_key_file, API_PEM_MAX,
					     &srv->tls_key, &n, err);
		if (ret < 0)
			return ret;
	}
	if (cfg->listen && !loopback && !srv->tls_cert)
		log_warn("TCP listener off loopback without TLS: the bearer token "
			 "travels in clear text", LOG_STR("listen", cfg->listen),
			 LOG_END);
	return 0;
}

/* The unix socket, then TCP when configured. */
static int api_listen_all(struct api_server *srv, const struct api_config *cfg,
			  const struct sockaddr_storage *ss, socklen_t sl,
			  struct pv_err *err)
{
	int fd = -1, ret;

	srv->socket_path = strdup(cfg->socket_path ? cfg->socket_path
						    : API_DEFAULT_SOCKET);
	if (!srv->socket_path)
		return pv_err_set(err, ENOMEM, "out of memory");
	ret = api_unix_listen(srv->socket_path, &fd, err);
	if (ret < 0)
		return ret;
	/* The unix socket relies on its file mode (0660), no token. */
	ret = api_listener_start(srv, fd, true, false, false, err);
	if (ret < 0 || !cfg->listen)
		return ret;
	ret = api_tcp_listen(ss, sl, cfg->listen, &fd, err);
	if (ret < 0)
		return ret;
	return api_listener_start(srv, fd, false, ss->ss_family == AF_INET6,
				  srv->token != NULL, err);
}

int api_start(const struct api_config *cfg, struct podsvc *svc,
	      struct api_server **out, struct pv_err *err)
{
	struct api_server *srv;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int ret;

	*out = NULL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return pv_err_set(err, ENOMEM, "out of memory");
	srv->svc = svc;
	srv->vpcs = cfg->vpcs;
	srv->exec = cfg->exec;
	srv->metrics = cfg->metrics;
	srv->max_body = cfg->max_body ? cfg->max_body : API_DEFAULT_MAX_BODY;
	srv->max_connections = cfg->max_connections ? cfg->max_connections
						    : API_DEFAULT_MAX_CONN;
	srv->timeout_s = cfg->timeout_s ? cfg->timeout_s : API_DEFAULT_TIMEOUT_S;
	atomic_init(&srv->stopping, false);
	ret = api_load_config(srv, cfg, &ss, &sl, err);
	if (ret == 0)
		ret = api_listen_all(srv, cfg, &ss, sl, err);
	if (ret < 0) {
		api_stop(srv);
		return ret;
	}
	log_info("api listening", LOG_STR("socket", srv->socket_path),
		 LOG_STR("tcp", cfg->listen ? cfg->listen : ""),
		 LOG_INT("token", srv->token != NULL),
		 LOG_INT("tls", srv->tls_cert != NULL),
		 LOG_INT("maxBody", (long long)srv->max_body),
		 LOG_INT("maxConnections", srv->max_connections), LOG_END);
	*out = srv;
	return 0;
}

void api_stop(struct api_server *srv)
{
	if (!srv)
		return;
	/* Streams poll this flag and end; then MHD joins their threads. */
	atomic_store(&srv->stopping, true);
	for (size_t i = 0; i < srv->n_lst; i++) {
		struct api_listener *l = srv->lst[i];
		int fd = l->fd;

		if (l->mhd) {
			/* Quiesce hands the listen socket back to us; if it
			 * cannot, MHD_stop_daemon closes it itself. */
			if (MHD_quiesce_daemon(l->mhd) == MHD_INVALID_SOCKET)
				fd = -1;
			MHD_stop_daemon(l->mhd);
		}
		if (fd >= 0)
			close(fd);
		free(l);
	}
	if (srv->socket_path && srv->n_lst)
		unlink(srv->socket_path);
	free(srv->socket_path);
	if (srv->token) {
		explicit_bzero(srv->token, strlen(srv->token));
		free(srv->token);
	}
	if (srv->tls_key) {
		explicit_bzero(srv->tls_key, strlen(srv->tls_key));
		free(srv->tls_key);
	}
	free(srv->tls_cert);
	free(srv);
}
