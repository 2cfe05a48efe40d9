#!/bin/sh
# Builds the ELF seed corpus into $1 with the host toolchains (gcc, i686-linux-gnu-gcc, musl-gcc,
# aarch64-linux-gnu-gcc), so no binary is committed. Small on purpose: stripped, one page per
# segment (-z noseparate-code), freestanding where a libc is not needed, so the fuzzer's
# mutations land on headers, notes and dynamic data rather than on code.
# Usage: make_seeds.sh OUT_DIR
set -eu
out=${1:?usage: make_seeds.sh OUT_DIR}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/hello.c" <<'C'
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
C
cat >"$tmp/lib.c" <<'C'
int foo_old(void) { return 1; }
int foo_new(void) { return 2; }
C
cat >"$tmp/use.c" <<'C'
int foo_new(void);
void _start(void) { foo_new(); }
C
cat >"$tmp/foo.map" <<'M'
FOO_1.0 { global: foo_old; local: *; };
FOO_2.0 { global: foo_new; } FOO_1.0;
M

small="-s -Wl,-z,noseparate-code -Wl,--build-id=none"
lib="-shared -fPIC -nostdlib -Wl,-soname,libfoo.so.1 -Wl,--version-script,$tmp/foo.map"

# x86-64, LSB ELF64: a PIE against glibc (interp, needed, verneed, ABI tag, ISA property), a
# versioned shared library (soname, verdef), a freestanding user of it with RUNPATH.
gcc $small -o "$out/x86_64-pie" "$tmp/hello.c"
gcc $small $lib -o "$out/x86_64-libfoo.so" "$tmp/lib.c"
gcc $small -nostdlib -o "$out/x86_64-runpath" "$tmp/use.c" "$out/x86_64-libfoo.so" \
  -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib' -Wl,-z,nodefaultlib
gcc $small -nostdlib -o "$out/x86_64-rpath" "$tmp/use.c" "$out/x86_64-libfoo.so" \
  -Wl,--disable-new-dtags,-rpath,/opt/lib
# i386, LSB ELF32.
i686-linux-gnu-gcc $small -o "$out/i686-dynamic" "$tmp/hello.c"
i686-linux-gnu-gcc $small $lib -o "$out/i686-libfoo.so" "$tmp/lib.c"
# musl: its own loader, no symbol versions.
musl-gcc $small -o "$out/musl-dynamic" "$tmp/hello.c"
# AArch64, LSB and MSB ELF64.
aarch64-linux-gnu-gcc $small -Wl,-z,max-page-size=4096 -o "$out/aarch64-dynamic" "$tmp/hello.c"
aarch64-linux-gnu-gcc -mbig-endian $small -Wl,-z,max-page-size=4096 $lib -o "$out/aarch64be-libfoo.so" "$tmp/lib.c"
aarch64-linux-gnu-gcc -mbig-endian $small -Wl,-z,max-page-size=4096 -nostdlib -o "$out/aarch64be-use" "$tmp/use.c" \
  "$out/aarch64be-libfoo.so" -Wl,-dynamic-linker,/lib/ld-linux-aarch64_be.so.1
# x86-64 static and freestanding: two NT_GNU_ABI_TAG notes (the first is the one glibc reads),
# an x86-64-v3 ISA marker, and glibc's "FATAL: kernel too old" text (glibc_kernel_check).
cat >"$tmp/static.c" <<'C'
const char zoo_fatal[] __attribute__((used)) = "FATAL: kernel too old\n";
void _start(void) { for (;;) { } }
C
cat >"$tmp/abi.s" <<'S'
	.section .note.ABI-tag,"a",@note
	.p2align 2
	.long 4, 16, 1
	.asciz "GNU"
	.long 0, 3, 2, 0
	.p2align 2
	.long 4, 16, 1
	.asciz "GNU"
	.long 0, 9, 0, 0
	.section .note.GNU-stack,"",@progbits
S
gcc $small -static -nostdlib -Wl,-z,x86-64-v3 -o "$out/x86_64-static-notes" "$tmp/static.c" "$tmp/abi.s"
