#include "searchidx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "mem.h"
#include "report.h"

#define INDEX_TIMEOUT_MS 30000

const struct error *searchidx_name(const struct instance *in, const char *env, char **out)
{
	const struct error *err;
	struct strv vars = STRV_INIT;

	*out = NULL;
	if (!in->cl.tpl.index_name)
		return NULL;
	if (!(err = instance_vars(in, env, &vars)) && !(err = template_expand(in->cl.tpl.index_name, vars.v, out)) &&
	    strspn(*out, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(*out)) {
		err = error_fmt("search index name \"%s\" must be lower-case letters, digits, \"_\", \".\" and \"-\"", *out);
		free(*out);
		*out = NULL;
	}
	for (size_t i = 0; i < vars.n; i++)
		explicit_bzero(vars.v[i], strlen(vars.v[i]));
	strv_free(&vars);
	return err;
}

const struct error *searchidx_drop(struct engine *e, const struct instance *in, const char *env)
{
	const struct error *err;
	const struct tpl_service *s;
	char *index = NULL, *container = NULL, *net = NULL, *url = NULL;
	const char *ip;
	json_t *info = NULL;
	struct http *h = NULL;
	struct buf body = BUF_INIT;
	long status = 0;

	if ((err = searchidx_name(in, env, &index)) || !index)
		goto out;
	s = template_service(&in->cl.tpl, in->cl.tpl.index_service);
	container = cluster_container(&in->cl, s->name);
	net = cluster_network(&in->cl);
	if ((err = engine_container_inspect(e, container, &info)))
		goto out;
	if (!info || !engine_running(info) || !(ip = engine_container_ip(info, net))) {
		report_warn("search index \"%s\" of instance \"%s\" stays: service \"%s\" is not running; delete it when it "
			    "is (the app rebuilds what it needs)", index, in->name, s->name);
		goto out;
	}
	url = xasprintf(strchr(ip, ':') ? "http://[%s]:%d/%s" : "http://%s:%d/%s", ip, s->port, index);
	{
		struct http_req r = {.method = "DELETE", .url = url, .timeout_ms = INDEX_TIMEOUT_MS,
				     .connect_timeout_ms = 5000};

		if ((err = http_open(NULL, &h)) || (err = http_do(h, &r, &status, &body, NULL)))
			goto out;
	}
	if (status != 404 && (status < 200 || status >= 300))
		err = error_fmt("%s answered %ld: %.*s", s->name, status, buf_trimmed_len(&body) > 300 ? 300
				: buf_trimmed_len(&body), buf_str(&body));
out:
	err = error_wrap(err, "deleting search index \"%s\"", index ? index : "?");
	http_close(h);
	buf_free(&body);
	json_decref(info);
	free(index);
	free(container);
	free(net);
	free(url);
	return err;
}
