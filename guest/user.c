/* The container user, as container runtimes resolve it: "uid[:gid]"
 * numeric, or names looked up in the image's /etc/passwd and /etc/group
 * (read before pivot_root). A numeric uid that has a passwd entry gets
 * that entry's primary gid; supplementary groups come from /etc/group
 * membership of the user's name. No user: root (0:0). */
#include "guest/guest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUEST_USER_SPEC_MAX 256
#define GUEST_DB_LINE_MAX   4096
#define GUEST_DB_LINES_MAX  100000

/* Strict decimal id in [0, 2^31-2] (Linux reserves -1). */
static bool guest_parse_id(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > INT_MAX - 1)
		return false;
	*out = v;
	return true;
}

/* Split a passwd/group line in place into at most max fields. */
static size_t guest_split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		fields[n++] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

struct guest_pwent {
	char name[256];
	unsigned long uid, gid;
};

/* Find by name (when name) or by uid. 0 found, -ENOENT, or -errno. */
static int guest_passwd_find(const char *path, const char *name,
			     unsigned long uid, struct guest_pwent *out)
{
	char line[GUEST_DB_LINE_MAX];
	FILE *f = fopen(path, "re");
	int rc = -ENOENT;
	size_t lines = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && lines++ < GUEST_DB_LINES_MAX) {
		char *fl[7];
		unsigned long u, g;

		line[strcspn(line, "\n")] = '\0';
		if (guest_split(line, fl, 7) < 4)
			continue;
		if (!guest_parse_id(fl[2], &u) || !guest_parse_id(fl[3], &g))
			continue;
		if (name ? strcmp(fl[0], name) != 0 : u != uid)
			continue;
		if (strlen(fl[0]) >= sizeof(out->name))
			continue;
		snprintf(out->name, sizeof(out->name), "%s", fl[0]);
		out->uid = u;
		out->gid = g;
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

/* Group by name -> gid, and/or collect groups listing member. */
static int guest_group_scan(const char *path, const char *group_name,
			    unsigned long *gid, const char *member,
			    struct guest_user *u)
{
	char line[GUEST_DB_LINE_MAX];
	FILE *f = fopen(path, "re");
	int rc = group_name ? -ENOENT : 0;
	size_t lines = 0;

	if (!f)
		return group_name ? -errno : 0;
	while (fgets(line, sizeof(line), f) && lines++ < GUEST_DB_LINES_MAX) {
		char *fl[4], *m, *save = NULL;
		unsigned long g;
		size_t nf;

		line[strcspn(line, "\n")] = '\0';
		nf = guest_split(line, fl, 4);
		if (nf < 3 || !guest_parse_id(fl[2], &g))
			continue;
		if (group_name && rc < 0 && strcmp(fl[0], group_name) == 0) {
			*gid = g;
			rc = 0;
		}
		if (!member || !u || nf < 4)
			continue;
		for (m = strtok_r(fl[3], ",", &save); m; m = strtok_r(NULL, ",", &save)) {
			if (strcmp(m, member) == 0 && u->n_groups < GUEST_MAX_GROUPS) {
				u->groups[u->n_groups++] = (gid_t)g;
				break;
			}
		}
	}
	fclose(f);
	return rc;
}

int guest_user_resolve(const char *spec, const char *passwd_path,
		       const char *group_path, struct guest_user *out,
		       struct pv_err *err)
{
	char buf[GUEST_USER_SPEC_MAX], *group = NULL;
	struct guest_pwent pw;
	unsigned long uid = 0, gid = 0;
	bool have_pw = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!spec || !*spec)
		return 0;
	if (strlen(spec) >= sizeof(buf))
		return pv_err_set(err, ENAMETOOLONG, "user \"%.64s...\" too long", spec);
	snprintf(buf, sizeof(buf), "%s", spec);
	group = strchr(buf, ':');
	if (group)
		*group++ = '\0';
	if (!*buf || (group && !*group))
		return pv_err_set(err, EINVAL, "invalid user \"%s\"", spec);

	if (guest_parse_id(buf, &uid)) {
		have_pw = guest_passwd_find(passwd_path, NULL, uid, &pw) == 0;
		gid = have_pw ? pw.gid : 0;
	} else {
		rc = guest_passwd_find(passwd_path, buf, 0, &pw);
		if (rc < 0)
			return pv_err_set(err, ENOENT,
					  "unable to find user %s: no matching entries in passwd file",
					  buf);
		have_pw = true;
		uid = pw.uid;
		gid = pw.gid;
	}
	if (group && !guest_parse_id(group, &gid)) {
		rc = guest_group_scan(group_path, group, &gid, NULL, NULL);
		if (rc < 0)
			return pv_err_set(err, ENOENT,
					  "unable to find group %s: no matching entries in group file",
					  group);
	}
	out->uid = (uid_t)uid;
	out->gid = (gid_t)gid;
	/* Supplementary groups only when the primary group is implied. */
	if (have_pw && !group)
		guest_group_scan(group_path, NULL, NULL, pw.name, out);
	return 0;
}
