/* The library of the ELF-note cases: returns 0. */
int zoo_lib(void) { return 0; }
