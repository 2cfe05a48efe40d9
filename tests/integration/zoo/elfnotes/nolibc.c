/* A program that needs one library and no libc (so that glibc's symbol versions do not get in
   the way on an older root): it calls the library, writes "zoo: ok" and exits 0 by syscalls. */
int zoo_lib(void);

static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

void _start(void) {
  static const char msg[] = "zoo: ok app-abi9\n";
  sys3(1, 1, (long)msg, sizeof msg - 1 - zoo_lib());
  sys3(60, 0, 0, 0);
  for (;;) {
  }
}
