/*
 * banned.h - functions that are easy to misuse with untrusted sizes, turned into compile
 * errors (after git's banned.h). Included last by every translation unit of the project
 * through the build's -include flag. Use snprintf, memcpy with a checked length,
 * parse_uint() and strtoull() with end-pointer checks instead.
 */
#ifndef RUNNER_BASE_BANNED_H
#define RUNNER_BASE_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef strtok
#define strtok(x, y) BANNED(strtok)

#endif
