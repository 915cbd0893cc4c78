/* fuzz_snapshot: snapshots made from a description, then verified and
 * restored as fuzz_archive does (its properties hold here too).
 *
 * Mutating a compressed archive rarely makes one whose manifest still
 * agrees with it; this harness writes the archive itself, so the fuzzer
 * works on what the members are.  The first byte: bits 0-1 the
 * compression (none, gzip, zstd), bit 2 a manifest.json last, listing
 * every member with its true size and checksum.  Then one member a line:
 *
 *	f NAME<TAB>CONTENT	a file ("\n" in CONTENT is a newline; CONTENT
 *				starting with "gz:": the rest, gzipped)
 *	d NAME			a folder
 *	l NAME<TAB>TARGET	a symlink
 *	h NAME<TAB>TARGET	a hard link
 *	m TEXT			extra manifest fields ("k": v, ...), verbatim */
#define FUZZ_ARCHIVE_LIB
#include "fuzz_archive.c"

#include <archive.h>
#include <archive_entry.h>

#include "../../common/sha256.h"

#define OUT_MAX (1u << 20)

static void add(struct archive *a, const char *name, int type, const char *data, size_t n, const char *target)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, (unsigned)type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_mtime(e, 1700000000, 0);
	if (type == AE_IFREG)
		archive_entry_set_size(e, (la_int64_t)n);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(e, target);
	if (type == 0) {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_hardlink(e, target);
	}
	if (archive_write_header(a, e) == ARCHIVE_OK && type == AE_IFREG && n)
		archive_write_data(a, data, n);
	archive_entry_free(e);
}

/* "\n" in s becomes a newline, in place; its length. */
static size_t unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			*o++ = '\n';
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return (size_t)(o - s);
}

/* The gzip of s[0..n), in a buffer the caller frees; its size in *out_n. */
static char *gzip(const char *s, size_t n, size_t *out_n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = n + 256;
	char *out = malloc(cap);

	if (!a || !e || !out)
		abort();
	*out_n = 0;
	archive_write_set_format_raw(a);
	archive_write_add_filter_gzip(a);
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open_memory(a, out, cap, out_n);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)n);
	if (archive_write_header(a, e) == ARCHIVE_OK && n)
		archive_write_data(a, s, n);
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct archive *a;
	char *text, *save = NULL, *out;
	size_t used = 0;
	json_t *members;
	char *extra = NULL;
	int flags;

	if (size < 1)
		return 0;
	if (!(members = json_array()))
		abort();
	flags = data[0];
	if (!(text = strndup((const char *)data + 1, size - 1)) || !(out = malloc(OUT_MAX)))
		abort();
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if ((flags & 3) == 1)
		archive_write_add_filter_gzip(a);
	else if ((flags & 3) == 2)
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_memory(a, out, OUT_MAX, &used) != ARCHIVE_OK)
		abort();
	/* First the members, remembered for the manifest. */
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(l, '\t'), *name = l + 2, *arg = tab ? tab + 1 : l + strlen(l);
		json_t *m;

		if (strlen(l) < 2 || l[1] != ' ')
			continue;
		if (tab)
			*tab = '\0';
		if (l[0] == 'm') {
			free(extra);
			extra = strdup(name);
			continue;
		}
		m = json_pack("{s:s}", "path", name);
		if (l[0] == 'f') {
			size_t n = unescape(arg);
			struct sha256 h;
			unsigned char d[32];
			char hex[65], *z = NULL;

			if (strncmp(arg, "gz:", 3) == 0)
				arg = z = gzip(arg + 3, n - 3, &n);

			sha256_init(&h);
			sha256_update(&h, arg, n);
			sha256_final(&h, d);
			sha256_hex(d, hex);
			json_object_set_new(m, "type", json_string("file"));
			json_object_set_new(m, "size", json_integer((json_int_t)n));
			json_object_set_new(m, "sha256", json_string(hex));
			add(a, name, AE_IFREG, arg, n, NULL);
			free(z);
		} else if (l[0] == 'd') {
			json_object_set_new(m, "type", json_string("dir"));
			add(a, name, AE_IFDIR, NULL, 0, NULL);
		} else if (l[0] == 'l' || l[0] == 'h') {
			json_object_set_new(m, "type", json_string("link"));
			json_object_set_new(m, "target", json_string(arg));
			add(a, name, l[0] == 'l' ? AE_IFLNK : 0, NULL, 0, arg);
		} else {
			json_decref(m);
			continue;
		}
		json_array_append_new(members, m);
	}
	if (flags & 4) {
		json_t *man = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:O}", "format", "korcluster-snapshot",
					"format_version", 1, "tool", "korcluster", "template", "sample", "instance",
					"museum", "version", "v1", "created", "2024-01-01T00:00:00Z", "members", members);
		char *js = man ? json_dumps(man, JSON_COMPACT) : NULL;

		if (js && extra && strlen(js) > 1) {
			char *merged;

			/* The extra fields first: a later duplicate key wins in jansson. */
			if (asprintf(&merged, "{%s,%s", extra, js + 1) < 0)
				abort();
			free(js);
			js = merged;
		}
		if (js)
			add(a, "manifest.json", AE_IFREG, js, strlen(js), NULL);
		free(js);
		json_decref(man);
	}
	archive_write_close(a);
	archive_write_free(a);
	if (used > 0)
		run_archive((const uint8_t *)out, used);
	json_decref(members);
	free(extra);
	free(text);
	free(out);
	return 0;
}
