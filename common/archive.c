#include "archive.h"

#include <string.h>

const char *archive_normalize(const char *name)
{
	while (name[0] == '.' && name[1] == '/') {
		name += 2;
		while (*name == '/')
			name++;
	}
	return name;
}

const struct error *archive_path_check(const char *name)
{
	const char *p = name;
	int depth = 0;

	if (!*name)
		return error_fmt("an archive member has an empty name");
	if (strlen(name) > ARCHIVE_NAME_MAX)
		return error_fmt("archive member \"%.60s...\" has a name longer than %d bytes", name, ARCHIVE_NAME_MAX);
	if (name[0] == '/')
		return error_fmt("archive member \"%s\" has an absolute path", name);
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return error_fmt("archive member \"%s\" has a \"..\" component", name);
		if ((n == 1 && p[0] == '.') || (n == 0 && p[n] == '/'))
			return error_fmt("archive member \"%s\" has an empty or \".\" component", name);
		if (n > 255)
			return error_fmt("archive member \"%.60s...\" has a name longer than 255 bytes in it", name);
		if (++depth > ARCHIVE_DEPTH_MAX)
			return error_fmt("archive member \"%.60s...\" is more than %d folders deep", name, ARCHIVE_DEPTH_MAX);
		p += n;
		if (*p == '/')
			p++;
	}
	return NULL;
}

const struct error *archive_link_check(const char *name, const char *target)
{
	int depth = 0;
	const char *p;

	if (!*target)
		return error_fmt("symlink \"%s\" has an empty target", name);
	if (target[0] == '/')
		return error_fmt("symlink \"%s\" points to the absolute path \"%s\"", name, target);
	/* Depth of the link's folder below the archive's root. */
	for (p = name; *p; p++)
		depth += *p == '/';
	for (p = target; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			depth--;
		else if (n && !(n == 1 && p[0] == '.'))
			depth++;
		if (depth < 0)
			return error_fmt("symlink \"%s\" points out of the archive (\"%s\")", name, target);
		p += n;
		if (*p == '/')
			p++;
	}
	return NULL;
}
