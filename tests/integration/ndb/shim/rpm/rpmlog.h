/* rpmlog() as rpmpkg.c uses it: to stderr. */
#include <stdio.h>
#define RPMLOG_ERR 3
#define RPMLOG_WARNING 4
#define rpmlog(level, ...) ((void)(level), fprintf(stderr, __VA_ARGS__))
