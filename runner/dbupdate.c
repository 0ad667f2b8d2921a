/*
 * dbupdate.c - download OSV exports and rebuild the advisory database (see dbupdate.h).
 */
#include "dbupdate.h"

#include "eco.h"
#include "osvdb.h"
#include "util.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "banned.h"

char *dbupdate_default_url(const char *ecosystem)
{
	return xasprintf("https://osv-vulnerabilities.storage.googleapis.com/%s/all.zip",
			 ecosystem);
}

struct fetch {
	const char *url;
	char *old_etag, *old_lm; /* from the current database */
	char *etag, *lm;	 /* from the response */
	char *tmp;		 /* downloaded file */
	int fd;
	uint64_t bytes;
	bool too_big;
	bool unchanged;
};

static void fetch_release(struct fetch *f)
{
	if (f->fd >= 0) {
		close(f->fd);
	}
	if (f->tmp) {
		unlink(f->tmp);
		tmp_untrack(f->tmp);
	}
	free(f->tmp);
	free(f->old_etag);
	free(f->old_lm);
	free(f->etag);
	free(f->lm);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct fetch *f = ud;
	size_t n = size * nmemb;
	if (f->bytes + n > DBUPDATE_MAX_DOWNLOAD) {
		f->too_big = true;
		return 0;
	}
	if (write_all(f->fd, data, n) < 0) {
		return 0;
	}
	f->bytes += n;
	return n;
}

/* Keep the value of a header line "Name: value\r\n" when it is name. */
static void take_header(const char *line, size_t n, const char *name, char **out)
{
	size_t k = strlen(name);
	if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':') {
		return;
	}
	const char *v = line + k + 1;
	const char *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t')) {
		v++;
	}
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) {
		end--;
	}
	if (end - v > 0 && end - v < 1024) {
		free(*out);
		*out = xstrndup(v, (size_t)(end - v));
	}
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct fetch *f = ud;
	size_t n = size * nmemb;
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a redirect): forget the previous one's headers. */
		free(f->etag);
		free(f->lm);
		f->etag = f->lm = NULL;
	}
	take_header(data, n, "ETag", &f->etag);
	take_header(data, n, "Last-Modified", &f->lm);
	return n;
}

static int download(struct fetch *f, const char *db_path, uint64_t timeout_ms, char *err,
		    size_t errlen)
{
	f->fd = open_tmp_beside(db_path, "download", O_RDWR, 0600, &f->tmp);
	if (f->fd >= 0) {
		tmp_track(f->tmp);
	}
	if (f->fd < 0) {
		int e = f->fd;
		f->fd = -1;
		return errf(err, errlen, e, "cannot create a download file beside %s: %s", db_path,
			    strerror(-e));
	}
	CURL *c = curl_easy_init();
	if (!c) {
		return errf(err, errlen, -ENOMEM, "cannot start libcurl");
	}
	struct curl_slist *hdrs = NULL;
	if (f->old_etag) {
		_cleanup_free_ char *h = xasprintf("If-None-Match: %s", f->old_etag);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (f->old_lm) {
		_cleanup_free_ char *h = xasprintf("If-Modified-Since: %s", f->old_lm);
		hdrs = curl_slist_append(hdrs, h);
	}
	char curl_err[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, f->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* From HTTPS, redirects stay on HTTPS: a plain-HTTP hop would let anyone on the path
	 * swap the export. */
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
			 str_has_prefix(f->url, "https:") ? "https" : "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "runner/" RUNNER_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)DBUPDATE_MAX_DOWNLOAD);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (f->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		return errf(err, errlen, -EINVAL, "%s: larger than %llu bytes: refused", f->url,
			    (unsigned long long)DBUPDATE_MAX_DOWNLOAD);
	}
	if (rc != CURLE_OK) {
		return errf(err, errlen, -EIO, "%s: %s", f->url,
			    curl_err[0] ? curl_err : curl_easy_strerror(rc));
	}
	if (status == 304 && (f->old_etag || f->old_lm)) {
		f->unchanged = true;
		return 0;
	}
	if (status != 200) {
		return errf(err, errlen, -EIO, "%s: the server answered HTTP %ld", f->url, status);
	}
	if (lseek(f->fd, 0, SEEK_SET) < 0) {
		return errf(err, errlen, -errno, "%s: %s", f->tmp, strerror(errno));
	}
	return 0;
}

int dbupdate_run(const char *db_path, const char *const *urls, size_t n_urls, uint64_t timeout_ms,
		 struct dbupdate_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	/* On a new machine the database's directory may not exist yet: the downloads are
	 * written beside the database (as `runner db import` makes it, this makes it). */
	_cleanup_free_ char *dir = xstrdup(db_path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		int mr = mkdir_p(dir, 0755);
		if (mr < 0) {
			return errf(err, errlen, mr, "cannot create %s: %s", dir, strerror(-mr));
		}
	}
	/* What the current database knows: its zip sources, their ETags and dates. */
	json_t *old_sources = NULL;
	struct osvdb *old = NULL;
	char oerr[512];
	bool have_old = osvdb_open(db_path, &old, oerr, sizeof(oerr)) == 0;
	if (have_old) {
		json_t *st = osvdb_status(old);
		old_sources = json_incref(json_object_get(st, "sources"));
		json_decref(st);
		if (!osvdb_lists_members(old)) {
			/* Built by an older runner (or damaged), it does not list every id each
			 * export held: a copy of an unchanged export would lose the ids whose
			 * kept copy came from another export that has since dropped them.
			 * Nothing is copied from it: its exports are downloaded again, without
			 * the conditional headers. */
			res->rebuilt = res->unlisted = true;
			size_t i;
			json_t *s;
			json_array_foreach(old_sources, i, s)
			{
				json_object_del(s, "etag");
				json_object_del(s, "last_modified");
			}
		}
		osvdb_close(old);
	} else {
		/* A database of an older format: its records are never copied (they may hold
		 * ranges today's loader refuses). Its exports are downloaded again, without
		 * the conditional headers, and the database rebuilt from them. */
		json_t *locations = osvdb_other_format_sources(db_path);
		if (locations) {
			res->rebuilt = true;
			old_sources = json_array();
			size_t i;
			json_t *l;
			json_array_foreach(locations, i, l)
			{
				json_array_append_new(old_sources,
						      json_pack("{sO}", "location", l));
			}
			json_decref(locations);
		}
	}
	/* The list of exports. */
	char **list = NULL;
	size_t n = 0;
	if (n_urls) {
		list = xcalloc(n_urls, sizeof(char *));
		for (size_t i = 0; i < n_urls; i++) {
			list[n++] = xstrdup(urls[i]);
		}
	} else {
		size_t i;
		json_t *s;
		json_array_foreach(old_sources, i, s)
		{
			const char *loc = json_string_value(json_object_get(s, "location"));
			if (loc &&
			    (str_has_prefix(loc, "http://") || str_has_prefix(loc, "https://"))) {
				list = xreallocarray(list, n + 1, sizeof(char *));
				list[n++] = xstrdup(loc);
			}
		}
		if (n == 0) {
			list = xcalloc(ECO_COUNT, sizeof(char *));
			for (int e = 0; e < ECO_COUNT; e++) {
				list[n++] = dbupdate_default_url(eco_name((enum eco)e));
			}
		}
	}
	struct fetch *f = xcalloc(n, sizeof(*f));
	int r = 0;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (size_t i = 0; i < n; i++) {
		f[i].fd = -1;
		f[i].url = list[i];
		size_t k;
		json_t *s;
		json_array_foreach(old_sources, k, s)
		{
			if (str_eq(json_string_value(json_object_get(s, "location")), list[i])) {
				const char *etag = json_string_value(json_object_get(s, "etag"));
				const char *lm =
					json_string_value(json_object_get(s, "last_modified"));
				f[i].old_etag = etag ? xstrdup(etag) : NULL;
				f[i].old_lm = lm ? xstrdup(lm) : NULL;
			}
		}
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		r = download(&f[i], db_path, timeout_ms, err, errlen);
	}
	struct osvdb_build *b = NULL;
	if (r == 0) {
		r = osvdb_build_new(db_path, &b, err, errlen);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		if (f[i].unchanged && res->rebuilt) {
			/* Not reached: no conditional request is made for a database rebuilt. */
			r = errf(err, errlen, -EINVAL,
				 "%s: unchanged, but the database is rebuilt from its exports",
				 f[i].url);
		} else if (f[i].unchanged) {
			r = osvdb_build_copy_source(b, db_path, f[i].url, err, errlen);
			res->unchanged++;
		} else {
			r = osvdb_build_import_zip_fd(b, f[i].fd, f[i].url, f[i].etag, f[i].lm, err,
						      errlen);
			res->downloaded++;
		}
	}
	if (r == 0) {
		res->records = osvdb_build_records(b);
		r = osvdb_build_commit(b, err, errlen);
	} else {
		osvdb_build_abort(b);
	}
	for (size_t i = 0; i < n; i++) {
		fetch_release(&f[i]);
		free(list[i]);
	}
	free(f);
	free(list);
	json_decref(old_sources);
	curl_global_cleanup();
	return r;
}
