/* Pull decisions (host/imgpolicy.h). */
#include "host/imgpolicy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "images/registry.h"

enum pod_pull_policy imgpolicy_effective(const struct pod_container *c,
					 enum imgpolicy_mode mode)
{
	if (c->pull_policy != POD_PULL_DEFAULT)
		return c->pull_policy;
	if (mode == IMGPOLICY_KUBELET && image_ref_defaults_to_always(c->image))
		return POD_PULL_ALWAYS;
	return POD_PULL_IF_NOT_PRESENT;
}

int imgpolicy_decide(struct image_store *s, const struct pod_container *c,
		     enum imgpolicy_mode mode, char *reason, struct pv_err *err)
{
	enum pod_pull_policy pol = imgpolicy_effective(c, mode);
	struct image *img = NULL;
	bool present, local;
	int ret;

	reason[0] = '\0';
	ret = image_store_resolve(s, c->image, &img, err);
	if (ret < 0 && ret != -ENOENT) {
		snprintf(reason, 32, "InvalidImageName");
		return ret;
	}
	present = ret == 0;
	local = present && !img->repo_digest[0];
	image_free(img);
	switch (pol) {
	case POD_PULL_NEVER:
		if (present)
			return 0;
		snprintf(reason, 32, "ErrImageNeverPull");
		return pv_err_set(err, ENOENT,
				  "container image \"%s\" is not present with pull policy of Never",
				  c->image);
	case POD_PULL_ALWAYS:
		return local ? 0 : 1;
	default:
		return present ? 0 : 1;
	}
}
