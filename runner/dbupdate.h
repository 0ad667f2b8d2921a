/*
 * dbupdate.h - `runner db update`: download OSV zip exports with libcurl and rebuild the
 * advisory database from them.
 *
 * Each export is fetched with a conditional request (If-None-Match with the ETag, and
 * If-Modified-Since with the Last-Modified, that the database recorded for it). Changed
 * exports are downloaded to temporary files beside the database (capped in size, HTTP(S)
 * only, a bounded number of redirects, an overall timeout) and imported; unchanged ones
 * are copied from the current database (only from a database of the current format that lists
 * every id each export held: one of an older format, or one built by an older runner without
 * that list, is rebuilt from its exports, all downloaded again). The new database replaces the
 * old one only when every export was fetched and imported: any failure leaves the old database
 * intact.
 */
#ifndef RUNNER_DBUPDATE_H
#define RUNNER_DBUPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DBUPDATE_MAX_DOWNLOAD (4ull << 30)

struct dbupdate_result {
	size_t downloaded; /* exports that changed and were imported */
	size_t unchanged;  /* exports the server said were not modified */
	size_t records;	   /* advisories in the new database */
	bool rebuilt;	   /* the database was of an older format: nothing was copied */
	bool unlisted;	   /* it was rebuilt because it did not list what each export held */
};

/* osv.dev's export URL for an ecosystem (heap string). */
char *dbupdate_default_url(const char *ecosystem);

/*
 * Update the database at db_path from urls (or, when n_urls is 0, the zip sources the
 * database already has, else osv.dev's exports of every supported ecosystem). Returns 0,
 * -EINVAL (an export was refused: a bad record or a malicious archive) or -errno, with err
 * set.
 */
int dbupdate_run(const char *db_path, const char *const *urls, size_t n_urls, uint64_t timeout_ms,
		 struct dbupdate_result *res, char *err, size_t errlen);

#endif
