/* A glibc program that needs the library of the ELF-note cases. */
#include <stdio.h>

int zoo_lib(void);

int main(int argc, char** argv) {
  (void)argc;
  printf("zoo: ok %s\n", argv[0] + zoo_lib());
  return 0;
}
