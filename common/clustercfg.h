/* clustercfg: a cluster's folder and its cluster.ini.
 *
 *   DIR/cluster.ini        [cluster] name, template, bind, http_port and
 *                          https_port (of the instances' hostnames, default
 *                          80 and 443); [images] SERVICE = IMAGE;
 *                          [limits] (optional) what an import or load may take;
 *                          [app] image (optional): the app's image, ${version} in it;
 *                          [settings] NAME = VALUE: the template's settings
 *   DIR/secrets/NAME       mode 0600: a secret setting
 *   DIR/cluster.sh         link to the korcluster binary
 *   DIR/secrets/           mode 0700; SERVICE_root_password, mode 0600
 *   DIR/services/SERVICE/  each shared service's data
 *   DIR/instances/ DIR/snapshots/
 */
#ifndef KC_CLUSTERCFG_H
#define KC_CLUSTERCFG_H

#include <jansson.h>
#include <stdint.h>

#include "conf.h"
#include "template.h"

#define LABEL_CLUSTER "korcluster.cluster"
#define LABEL_ROOT "korcluster.root"
#define LABEL_ROLE "korcluster.role"
#define LABEL_INSTANCE "korcluster.instance"
#define LABEL_ENV "korcluster.env"
#define LABEL_CONFIG "korcluster.config"

/* The front proxy's name among services: a template may not use it. */
#define CLUSTER_PROXY "proxy"

/* [limits]: bounds on what an archive or a dump may make (0: no bound). */
struct cluster_limits {
	unsigned unpack_ratio; /* unpacked bytes per archive byte (unpack_ratio, default 1000) */
	uint64_t unpack_max;   /* bytes an archive may unpack to (unpack_max, default none) */
	int load_timeout;      /* seconds a dump's load may take (load_timeout, default 1 h) */
	unsigned load_growth;  /* a loaded database's size per byte of its dump (load_growth, default 8) */
	unsigned starts;       /* instances starting at once (starts, default the host's CPUs) */
};

#define CLUSTER_UNPACK_RATIO 1000
#define CLUSTER_LOAD_TIMEOUT 3600
#define CLUSTER_LOAD_GROWTH 8

struct cluster {
	char *root;               /* owned, absolute */
	struct conf conf;         /* owns name, template_name, bind */
	const char *name, *template_name, *bind;
	int http_port, https_port; /* where the proxy serves hostnames (routes) */
	struct cluster_limits limits;
	const char *app_image;    /* [app] image, or NULL: the template's */
	/* [backup] target (offsite.h), or NULL; max_age: how old the newest
	 * snapshot of an instance may be for "backup push" to send it rather
	 * than take one (seconds, default a day) */
	const char *backup_target;
	int backup_max_age;
	/* [backup] warn_age: status warns when an instance's newest off-site
	 * copy is older (default twice max_age); rate_limit: bytes a second a
	 * transfer may use (0: no limit; "10M" as elsewhere). */
	int backup_warn_age;
	uint64_t backup_rate_limit;
	/* "NAME=VALUE" of every setting given in [settings] or secrets/; a
	 * setting absent here takes its default ("${...}" expanded per instance) */
	struct strv settings;
	struct template tpl;
};

/* Load DIR/cluster.ini and its template and check both; every problem goes
 * to d.  Fails only if the files cannot be read at all. */
const struct error *cluster_load(struct cluster *c, const char *root, struct diag *d);
/* Load and refuse with every problem listed (reported); c is freed then. */
const struct error *cluster_open(struct cluster *c, const char *root);
/* The image the cluster runs for a service of its template. */
const char *cluster_image(const struct cluster *c, const char *service);
/* root + "/" + the formatted relative path; caller frees. */
char *cluster_path(const struct cluster *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Docker names: "<name>_<service>", "<name>_net"; caller frees. */
char *cluster_container(const struct cluster *c, const char *service);
char *cluster_network(const struct cluster *c);
/* The text of a new cluster.ini. caller frees. */
/* The same with the images of some services given ("SERVICE=IMAGE"). */
char *cluster_ini_text_images(const char *name, const char *template_name, const char *bind,
			      const struct template *t, const struct strv *images);
char *cluster_ini_text(const char *name, const char *template_name, const char *bind,
		       const struct template *t);
/* 1 if container labels say the container belongs to no cluster or to
 * another one (same name, other folder: label korcluster.root). */
int cluster_foreign(const struct cluster *c, json_t *labels);
/* The labels every container of the cluster carries (new reference). */
json_t *cluster_labels(const struct cluster *c);
/* The root password of a mysql service, from its 0600 file; *out is the
 * caller's. */
const struct error *cluster_root_password(const struct cluster *c, const struct tpl_service *s, char **out);
void cluster_free(struct cluster *c);

#endif
