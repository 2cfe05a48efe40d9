/* Needs GLIBC_2.36 (arc4random) besides GLIBC_2.34 (__libc_start_main): two missing versions
   on bullseye's glibc 2.31. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  (void)argc;
  printf("zoo: ok %s %u\n", argv[0], arc4random() & 1u);
  return 0;
}
