/* A tiny shared library, built under several sonames (-DZOO_NAME=...); -nostdlib so it needs
   no libc version. */
int ZOO_NAME(void) { return 1; }
