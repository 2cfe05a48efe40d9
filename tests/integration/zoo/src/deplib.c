/* libzoodep.so.1: found through the ld.so cache, but needs libzoogone.so.1, which is nowhere. */
int zoo_gone(void);
int zoo_dep(void) { return zoo_gone(); }
