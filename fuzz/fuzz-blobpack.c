/*
 * fuzz-blobpack.c - the secrets worker's unpacking of a pack of blobs (stages/blobpack.h)
 * from arbitrary bytes. The input is written as the pack in a fresh directory (on
 * /dev/shm when there is one: a tmpfs, as in the sandbox) and unpacked into dest/ beside
 * it; the directory is removed after each input.
 *
 * Nothing may crash, hang or leak; nothing may be written outside dest/; a refused pack
 * says why; an accepted one starts with the header and its blobs are the directories
 * dest/ab/cdef... (two levels, hex names) holding regular files only.
 */
#include "blobpack.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool hex(const char *s, size_t n)
{
	if (strlen(s) != n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return true;
}

/* The entries of dir other than . and ..; each checked by check(); -1 when one fails. */
static long entries(const char *dir, bool (*check)(const char *parent, const char *name))
{
	DIR *d = opendir(dir);
	if (!d) {
		return -1;
	}
	long n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		if (check && !check(dir, de->d_name)) {
			n = -1;
			break;
		}
		n++;
	}
	closedir(d);
	return n;
}

static bool is_file(const char *parent, const char *name)
{
	struct stat st;
	char *p = xasprintf("%s/%s", parent, name);
	bool ok = lstat(p, &st) == 0 && S_ISREG(st.st_mode);
	free(p);
	return ok;
}

static bool is_blob_dir(const char *parent, const char *name)
{
	char *p = xasprintf("%s/%s", parent, name);
	bool ok = hex(name, 38) && entries(p, is_file) > 0;
	free(p);
	return ok;
}

static bool is_fan_dir(const char *parent, const char *name)
{
	char *p = xasprintf("%s/%s", parent, name);
	bool ok = hex(name, 2) && entries(p, is_blob_dir) > 0;
	free(p);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *base;
	if (!base) {
		struct stat st;
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
				       access("/dev/shm", W_OK) == 0
			       ? "/dev/shm"
			       : "/tmp";
	}
	if (size > (1u << 20)) {
		return 0;
	}
	char *dir = xasprintf("%s/fuzz-blobpack-XXXXXX", base);
	if (!mkdtemp(dir)) {
		__builtin_trap();
	}
	char *pack = xasprintf("%s/pack", dir), *dest = xasprintf("%s/dest", dir);
	int fd = open(pack, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, data, size) < 0 || close(fd) < 0 || mkdir(dest, 0755) < 0) {
		__builtin_trap();
	}
	char err[512] = "";
	long n = blobpack_unpack(pack, dest, err, sizeof(err));
	/* Nothing beside the pack and dest/. */
	if (entries(dir, NULL) != 2) {
		__builtin_trap();
	}
	if (n < 0 && err[0] == '\0') {
		__builtin_trap();
	}
	if (n >= 0) {
		const char magic[] = "runner-blobpack 1\n";
		if (size < strlen(magic) || memcmp(data, magic, strlen(magic)) != 0) {
			__builtin_trap();
		}
		/* At most n fan-out directories, each holding blobs of files alone. */
		long fans = entries(dest, is_fan_dir);
		if (fans < 0 || fans > n || (n > 0 && fans == 0)) {
			__builtin_trap();
		}
	}
	if (rm_rf(dir) < 0) {
		__builtin_trap();
	}
	free(pack);
	free(dest);
	free(dir);
	return 0;
}
