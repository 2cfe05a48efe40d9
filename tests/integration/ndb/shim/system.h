/* What rpmpkg.c takes from rpm's system.h: allocation that aborts on failure, and _(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void* xmalloc(size_t n) {
  void* p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}
static inline void* xcalloc(size_t n, size_t s) {
  void* p = calloc(n ? n : 1, s ? s : 1);
  if (!p) abort();
  return p;
}
static inline void* xrealloc(void* p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) abort();
  return p;
}
static inline char* xstrdup(const char* s) {
  char* p = strdup(s);
  if (!p) abort();
  return p;
}
#define _(s) (s)
