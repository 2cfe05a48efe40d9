/* A program that needs one library (-DZOO_NAME=the function it calls); prints and exits 0
   when the loader finds it. */
#include <stdio.h>

int ZOO_NAME(void);

int main(int argc, char** argv) {
  (void)argc;
  printf("zoo: ok %s %d\n", argv[0], ZOO_NAME());
  return 0;
}
