/* fuzz_conf: the INI reader (conf.h) and what reads cluster.ini,
 * instance.ini and a template through it (clustercfg.h, instcfg.h,
 * template.h).
 *
 * The input is up to three texts separated by FUZZ_SEP: cluster.ini,
 * instance.ini (of instance "museum") and the template "fz" (found
 * through KORCLUSTER_TEMPLATES).  They are written to a folder of this
 * process, laid out as a cluster, and loaded as korcluster loads them.  A
 * loaded instance without problems also gets its variables and its app's
 * environment worked out. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../common/clustercfg.h"
#include "../../common/conf.h"
#include "../../common/err.h"
#include "../../common/instcfg.h"
#include "../../common/report.h"
#include "../../common/strv.h"
#include "fuzz.h"

static char *cluster_ini, *instance_ini, *template_ini, *iroot, *croot;

static void setup(void)
{
	const char *d = fuzz_tmpdir();
	char *p;

	if (croot)
		return;
	report_quiet(1);
	croot = malloc(strlen(d) + 64);
	iroot = malloc(strlen(d) + 64);
	cluster_ini = malloc(strlen(d) + 64);
	instance_ini = malloc(strlen(d) + 64);
	template_ini = malloc(strlen(d) + 64);
	p = malloc(strlen(d) + 64);
	if (!croot || !iroot || !cluster_ini || !instance_ini || !template_ini || !p)
		abort();
	sprintf(croot, "%s/c", d);
	sprintf(p, "%s/c/instances", d);
	sprintf(iroot, "%s/c/instances/museum", d);
	sprintf(cluster_ini, "%s/c/cluster.ini", d);
	sprintf(instance_ini, "%s/c/instances/museum/instance.ini", d);
	mkdir(croot, 0700);
	mkdir(p, 0700);
	mkdir(iroot, 0700);
	sprintf(p, "%s/templates", d);
	mkdir(p, 0700);
	setenv("KORCLUSTER_TEMPLATES", p, 1);
	sprintf(template_ini, "%s/templates/fz.ini", d);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *text[3] = {NULL, NULL, NULL};
	struct diag d = DIAG_INIT;
	struct conf c = {0};
	struct instance in;

	setup();
	for (int i = 0; i < 3; i++)
		text[i] = fuzz_part(&p, end);
	if (!text[0])
		text[0] = strdup("");

	/* The text alone, then every entry asked for and the rest unknown. */
	conf_load_string(&c, "mem.ini", text[0], &d);
	for (size_t i = 0; i < c.n; i++) {
		struct conf_entry *e = conf_get(&c, c.e[i].section, c.e[i].key);

		FUZZ_ASSERT(e && strcmp(e->section, c.e[i].section) == 0 && strcmp(e->key, c.e[i].key) == 0,
			    "conf_get finds entry %zu", i);
		conf_section_line(&c, c.e[i].section);
	}
	conf_unknown(&c, &d);
	diag_sort(&d);
	conf_free(&c);
	diag_free(&d);

	fuzz_write(cluster_ini, text[0], strlen(text[0]));
	fuzz_write(instance_ini, text[1] ? text[1] : "", text[1] ? strlen(text[1]) : 0);
	fuzz_write(template_ini, text[2] ? text[2] : "", text[2] ? strlen(text[2]) : 0);

	d = (struct diag)DIAG_INIT;
	if (!instance_load(&in, iroot, &d) && d.lines.n == 0) {
		struct strv vars = STRV_INIT, env = STRV_INIT;

		for (int e = 0; e < 2; e++) {
			const char *name = e ? "green" : "blue";

			if (!instance_vars(&in, name, &vars))
				instance_app_env(&in, &vars, &env);
			free(instance_database(&in, name));
			free(instance_data_dir(&in, name));
			instance_env_version(&in, name);
			strv_free(&vars);
			strv_free(&env);
		}
		for (size_t i = 0; i < in.cl.tpl.nsvc; i++)
			free(cluster_container(&in.cl, in.cl.tpl.svc[i].name));
	}
	if (getenv("FUZZ_DEBUG"))
		for (size_t i = 0; i < d.lines.n; i++)
			fprintf(stderr, "fuzz: %s\n", d.lines.v[i]);
	diag_sort(&d);
	diag_free(&d);
	instance_free(&in);

	for (int i = 0; i < 3; i++)
		free(text[i]);
	error_release();
	return 0;
}
