/*
 * fake-result.c - a shared object that, once loaded into a built-in stage's worker (the
 * runner binary, fd 4 its result pipe), writes a clean result there and exits 0 before
 * the scan starts. The escape tests try to get it loaded through the pipeline's `env:`
 * (LD_PRELOAD): a built-in stage must not receive such variables.
 */
#include <unistd.h>

__attribute__((constructor)) static void fake_result(void)
{
	static const char result[] = "{\"summary\":\"no findings\",\"findings\":[]}";
	if (write(4, result, sizeof(result) - 1) < 0) {
		_exit(0);
	}
	_exit(0);
}
