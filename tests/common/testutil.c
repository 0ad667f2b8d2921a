/*
 * testutil.c - shared test helpers.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void die(const char *what)
{
	fprintf(stderr, "testutil: %s: %s\n", what, strerror(errno));
	abort();
}

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *tmpl;
	if (asprintf(&tmpl, "%s/runner-test-XXXXXX", base && *base ? base : "/tmp") < 0) {
		die("asprintf");
	}
	if (!mkdtemp(tmpl)) {
		die("mkdtemp");
	}
	return tmpl;
}

void tu_rmdir(const char *dir)
{
	char *cmd;
	if (dir && asprintf(&cmd, "rm -rf '%s'", dir) >= 0) {
		int r = system(cmd);
		(void)r;
		free(cmd);
	}
}

static void mkparents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
}

void tu_write(const char *dir, const char *name, const char *content)
{
	char *path;
	if (asprintf(&path, "%s/%s", dir, name) < 0) {
		die("asprintf");
	}
	mkparents(path);
	FILE *f = fopen(path, "w");
	if (!f) {
		die(path);
	}
	fputs(content, f);
	fclose(f);
	free(path);
}

char *tu_read(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

char *tu_readf(const char *fmt, ...)
{
	va_list ap;
	char *path;
	va_start(ap, fmt);
	if (vasprintf(&path, fmt, ap) < 0) {
		die("vasprintf");
	}
	va_end(ap);
	char *s = tu_read(path);
	free(path);
	return s;
}

bool tu_exists(const char *fmt, ...)
{
	va_list ap;
	char *path;
	va_start(ap, fmt);
	if (vasprintf(&path, fmt, ap) < 0) {
		die("vasprintf");
	}
	va_end(ap);
	struct stat st;
	bool ok = lstat(path, &st) == 0;
	free(path);
	return ok;
}

static void drain(int fd, char **buf, size_t *n, size_t *cap, bool *open_)
{
	if (*n + 65536 >= *cap) {
		*cap = *cap * 2 + 65536;
		*buf = realloc(*buf, *cap);
	}
	ssize_t r = read(fd, *buf + *n, *cap - *n - 1);
	if (r > 0) {
		*n += (size_t)r;
	} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
		*open_ = false;
	}
	(*buf)[*n] = '\0';
}

struct tu_result tu_run(const char *cwd, const char *const *argv, const char *const *env,
			double timeout_s)
{
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		die("pipe");
	}
	pid_t pid = fork();
	if (pid < 0) {
		die("fork");
	}
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		if (cwd && chdir(cwd) < 0) {
			_exit(126);
		}
		execve(argv[0], (char *const *)argv, env ? (char *const *)env : environ);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	struct tu_result res = { 0 };
	size_t no = 0, ne = 0, co = 0, ce = 0;
	bool oo = true, oe = true;
	res.out = calloc(1, 1);
	res.err = calloc(1, 1);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool killed = false;
	while (oo || oe) {
		struct pollfd pf[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
		if (el > timeout_s && !killed) {
			kill(pid, SIGKILL);
			killed = true;
		}
		int n = poll(pf, 2, 100);
		if (n < 0 && errno != EINTR) {
			die("poll");
		}
		if (oo && (pf[0].revents & (POLLIN | POLLHUP))) {
			drain(po[0], &res.out, &no, &co, &oo);
		}
		if (oe && (pf[1].revents & (POLLIN | POLLHUP))) {
			drain(pe[0], &res.err, &ne, &ce, &oe);
		}
	}
	close(po[0]);
	close(pe[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	res.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return res;
}

void tu_result_free(struct tu_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

const char *tu_runner(void)
{
	const char *b = getenv("RUNNER_BIN");
	if (!b || !*b) {
		fprintf(stderr,
			"testutil: RUNNER_BIN is not set (run the tests with meson test)\n");
		abort();
	}
	return b;
}

char *tu_fixture(const char *rel)
{
	const char *base = getenv("RUNNER_FIXTURES");
	char *p;
	if (!base || asprintf(&p, "%s/%s", base, rel) < 0) {
		fprintf(stderr, "testutil: RUNNER_FIXTURES is not set\n");
		abort();
	}
	return p;
}

struct tu_result tu_runner_run(const char *cwd, ...)
{
	const char *argv[64];
	size_t n = 0;
	va_list ap;
	argv[n++] = tu_runner();
	va_start(ap, cwd);
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 63) {
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	return tu_run(cwd, argv, NULL, 120);
}

json_t *tu_latest_report(const char *dir)
{
	char *path;
	if (asprintf(&path, "%s/.runner/runs/latest/report.json", dir) < 0) {
		die("asprintf");
	}
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);
	free(path);
	return j;
}

json_t *tu_report_stage(json_t *report, const char *name)
{
	json_t *stages = json_object_get(report, "stages");
	for (size_t i = 0; i < json_array_size(stages); i++) {
		json_t *s = json_array_get(stages, i);
		const char *n = json_string_value(json_object_get(s, "name"));
		if (n && strcmp(n, name) == 0) {
			return s;
		}
	}
	return NULL;
}

const char *tu_stage_status(json_t *report, const char *name)
{
	const char *s = json_string_value(json_object_get(tu_report_stage(report, name), "status"));
	return s ? s : "";
}

/* Run a Python validation snippet on (schema, document); NULL when it exits 0. */
static char *python_problem(const char *code, const char *schema, const char *path)
{
	const char *argv[] = { "/usr/bin/python3", "-W", "ignore", "-c", code, schema, path, NULL };
	struct tu_result r = tu_run(NULL, argv, NULL, 60);
	char *problem = NULL;
	if (r.status != 0 && asprintf(&problem, "status %d\n%s%s", r.status, r.out, r.err) < 0) {
		problem = strdup("out of memory");
	}
	tu_result_free(&r);
	return problem;
}

char *tu_sarif_problem(const char *path)
{
	char *schema = tu_fixture("sarif/sarif-schema-2.1.0.json");
	char *problem =
		python_problem("import json, sys, jsonschema\n"
			       "schema = json.load(open(sys.argv[1]))\n"
			       "log = json.load(open(sys.argv[2]))\n"
			       "jsonschema.Draft4Validator.check_schema(schema)\n"
			       "jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator,\n"
			       "                    format_checker=jsonschema.FormatChecker())\n"
			       "assert log['version'] == '2.1.0'\n",
			       schema, path);
	free(schema);
	return problem;
}

char *tu_cyclonedx_problem(const char *path)
{
	char *schema = tu_fixture("cyclonedx/bom-1.5.SNAPSHOT.schema.json");
	/* The schema refers to its two companions by relative name: they are resolved from
	 * the fixture directory, never fetched. */
	char *problem = python_problem(
		"import json, os, sys, jsonschema\n"
		"schema = json.load(open(sys.argv[1]))\n"
		"bom = json.load(open(sys.argv[2]))\n"
		"base = 'http://cyclonedx.org/schema/'\n"
		"store = {}\n"
		"d = os.path.dirname(sys.argv[1])\n"
		"for n in ('spdx.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json'):\n"
		"    s = json.load(open(os.path.join(d, n)))\n"
		"    store[base + n] = s\n"
		"    store[s['$id']] = s\n"
		"jsonschema.Draft7Validator.check_schema(schema)\n"
		"resolver = jsonschema.RefResolver(schema['$id'], schema, store=store)\n"
		"jsonschema.Draft7Validator(schema, resolver=resolver,\n"
		"    format_checker=jsonschema.FormatChecker()).validate(bom)\n"
		"assert bom['bomFormat'] == 'CycloneDX' and bom['specVersion'] == '1.5'\n",
		schema, path);
	free(schema);
	return problem;
}

static int scan_procs(const char *needle, bool first)
{
	DIR *d = opendir("/proc");
	int count = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == getpid()) {
			continue;
		}
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		FILE *f = fopen(path, "r");
		if (!f) {
			continue;
		}
		char buf[4096];
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (size_t i = 0; i < n; i++) {
			buf[i] = buf[i] ? buf[i] : ' ';
		}
		buf[n] = '\0';
		/* The needle as whole words: 100.12 must not match 100.123. */
		bool hit = false;
		size_t nl = strlen(needle);
		for (const char *m = buf; !hit && (m = strstr(m, needle)); m++) {
			hit = (m == buf || m[-1] == ' ') && (m[nl] == ' ' || m[nl] == '\0');
		}
		if (hit) {
			if (first) {
				closedir(d);
				return (int)pid;
			}
			count++;
		}
	}
	if (d) {
		closedir(d);
	}
	return first ? -1 : count;
}

int tu_procs_matching(const char *needle)
{
	return scan_procs(needle, false);
}

int tu_pid_matching(const char *needle)
{
	return scan_procs(needle, true);
}

char *tu_strf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		die("vasprintf");
	}
	return s;
}

/* The pid of a live worker process (argv[1] "__worker") whose working directory is dir. */
static int worker_in(const char *dir)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int found = -1;
	while (found < 0 && d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0) {
			continue;
		}
		char path[64], buf[512], cwd[4096];
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			continue;
		}
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		size_t a0 = n > 0 ? strnlen(buf, (size_t)n) : 0;
		if (n <= 0 || (size_t)n <= a0 + 9 || memcmp(buf + a0 + 1, "__worker", 9) != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%ld/cwd", pid);
		ssize_t k = readlink(path, cwd, sizeof(cwd) - 1);
		if (k > 0) {
			cwd[k] = '\0';
			found = strcmp(cwd, dir) == 0 ? (int)pid : -1;
		}
	}
	if (d) {
		closedir(d);
	}
	return found;
}

int tu_worker_in(const char *dir, double timeout_s)
{
	char real[4096];
	if (!realpath(dir, real)) {
		return -1;
	}
	for (double waited = 0; waited < timeout_s; waited += 0.02) {
		int pid = worker_in(real);
		if (pid > 0) {
			return pid;
		}
		usleep(20000);
	}
	return -1;
}

int tu_lease(const char *dir, const char *name, const char *content)
{
	signal(SIGIO, SIG_IGN); /* the lease-break notification */
	tu_write(dir, name, content);
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && fcntl(fd, F_SETLEASE, F_WRLCK) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

const char *tu_status_field(const char *status, const char *key)
{
	static char val[64];
	val[0] = '\0';
	const char *p = status ? strstr(status, key) : NULL;
	if (p) {
		p += strlen(key);
		p += strspn(p, " \t");
		snprintf(val, sizeof(val), "%.*s", (int)strcspn(p, "\n"), p);
	}
	return val;
}

char *tu_utc(long long seconds, bool with_time)
{
	time_t t = time(NULL) + (time_t)seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[32];
	strftime(buf, sizeof(buf), with_time ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d", &tm);
	return tu_strf("%s", buf);
}
