/* The healthy program of the zoo: prints one line naming itself and exits 0. */
#include <stdio.h>

int main(int argc, char** argv) {
  (void)argc;
  printf("zoo: ok %s\n", argv[0]);
  return 0;
}
