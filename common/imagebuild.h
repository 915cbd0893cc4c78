/* imagebuild: the app's image built from its source through the engine.
 *
 * ConedaKOR publishes no image: it is built from its source tree (its
 * Dockerfile).  The source is a folder, streamed as the build context
 * (buildctx.h), or a URL the engine fetches itself (a Git repository, as
 * "https://github.com/coneda/kor.git#v5.1.0"); without one, the template's
 * "source" for the version.  The image is tagged as the cluster runs it
 * (cluster.ini [app] image, else the template's image, for the version),
 * so "new" and "upgrade" find it without a pull.  Base images come from
 * registries with the user's docker credentials (regauth.h).  The build's
 * steps are shown as they run; a failed build shows its last lines. */
#ifndef KC_IMAGEBUILD_H
#define KC_IMAGEBUILD_H

#include "clustercfg.h"
#include "engine.h"
#include "err.h"

/* source: a folder or a URL, or NULL (the template's); tag: or NULL (the
 * cluster's image for version).  *built gets the tag (caller frees). */
const struct error *imagebuild_run(struct engine *e, const struct cluster *cl, const char *version, const char *source,
				   const char *tag, char **built);

#endif
