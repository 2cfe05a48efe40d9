/* Writes an ndb Packages.db with rpm's own code: lib/backend/ndb/rpmpkg.c of rpm's source,
 * compiled with shim/ (rpm's logging and allocation) by rpm_test.sh.
 *
 * Usage: ndb_put DB DECOYS BLOB...
 * First DECOYS copies of the last blob are put as packages 1000000+i, which grows the database
 * to several slot pages (rpmpkgAddSlotPage moves the blobs that were in the way), and every
 * other one is deleted again. Then each BLOB file is put as package 1, 2, ... (rpmpkg.c puts a
 * blob in the best-fitting hole the deletions left, else at the end) and read back (rpmpkgGet)
 * to compare. Then the other decoys are deleted: free slots and holes remain, and the blobs are
 * no longer in package order. rpmpkgVerify checks the whole database. Prints "slot pages: N"
 * and the package indexes rpmpkgList gives, in its order (by blob offset). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpmpkg.h"

static unsigned char* slurp(const char* path, unsigned int* len) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char* b = malloc(n ? n : 1);
  if (fread(b, 1, n, f) != (size_t)n) exit(1);
  fclose(f);
  *len = (unsigned int)n;
  return b;
}

static void check(int rc, const char* what) {
  if (rc) {
    fprintf(stderr, "ndb_put: %s failed (%d)\n", what, rc);
    exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: ndb_put DB DECOYS BLOB...\n");
    return 2;
  }
  rpmpkgdb db;
  check(rpmpkgOpen(&db, argv[1], O_RDWR | O_CREAT, 0644), "rpmpkgOpen");
  rpmpkgSetFsync(db, 0);
  int decoys = atoi(argv[2]);
  unsigned int len;
  unsigned char* last = slurp(argv[argc - 1], &len);
  for (int i = 0; i < decoys; i++) check(rpmpkgPut(db, 1000000 + i, last, len), "rpmpkgPut decoy");
  for (int i = 0; i < decoys; i += 2) check(rpmpkgDel(db, 1000000 + i), "rpmpkgDel decoy");
  free(last);
  for (int i = 3; i < argc; i++) {
    unsigned char *blob = slurp(argv[i], &len), *back;
    unsigned int backlen;
    check(rpmpkgPut(db, i - 2, blob, len), "rpmpkgPut");
    check(rpmpkgGet(db, i - 2, &back, &backlen), "rpmpkgGet");
    if (backlen != len || memcmp(blob, back, len)) {
      fprintf(stderr, "ndb_put: package %d reads back different\n", i - 2);
      return 1;
    }
    free(blob);
    free(back);
  }
  for (int i = 1; i < decoys; i += 2) check(rpmpkgDel(db, 1000000 + i), "rpmpkgDel decoy");
  check(rpmpkgVerify(db), "rpmpkgVerify");
  unsigned int *list, n;
  check(rpmpkgList(db, &list, &n), "rpmpkgList");
  FILE* f = fopen(argv[1], "rb");
  fseek(f, 12, SEEK_SET);
  unsigned char pages[4];
  if (fread(pages, 1, 4, f) != 4) return 1;
  fclose(f);
  printf("slot pages: %u\n", pages[0] | pages[1] << 8 | pages[2] << 16 | (unsigned)pages[3] << 24);
  for (unsigned int i = 0; i < n; i++) printf("%u\n", list[i]);
  free(list);
  rpmpkgClose(db);
  return 0;
}
