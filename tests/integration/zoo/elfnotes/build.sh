#!/bin/sh
# Compiles the ELF-note programs into the build context CTX (bin/ and lib/), for zoo/elfnotes and
# zoo/elfnotes-bullseye. Called by zoo_test.sh's make_context; nothing binary is committed.
#   hello-hostlevel    marked for this machine's own x86-64 level (ld.so --help): starts
#   hello-isa-future   marked with an ISA bit above v4: glibc >= 2.33 refuses it
#   app-isa-future-lib its library (RUNPATH $ORIGIN/../lib) is marked so: named by its path
#   static-abi-tag-9   static glibc program with a second, hand-written ABI tag for Linux 9.0
#   app-abi9           no libc; needs libabi9.so.1, whose ABI tag asks for Linux 9.0
set -eu
ctx=$1
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../src
b=$ctx/bin l=$ctx/lib
mkdir -p "$b" "$l"
level=$(/lib64/ld-linux-x86-64.so.2 --help | sed -n 's/^ *x86-64-v\([234]\) (supported, searched)$/\1/p' | head -n1)
if [ -n "$level" ]; then
  gcc -O2 -Wl,-z,x86-64-v"$level" -o "$b/hello-hostlevel" "$src/hello.c"
else
  gcc -O2 -Wl,-z,x86-64-baseline -o "$b/hello-hostlevel" "$src/hello.c"
fi
gcc -O2 -o "$b/hello-isa-future" "$src/hello.c" "$here/isa-future.s"
gcc -O2 -shared -fPIC -Wl,-soname,libisafuture.so.1 -o "$l/libisafuture.so.1" \
  "$here/lib.c" "$here/isa-future.s"
gcc -O2 -o "$b/app-isa-future-lib" "$here/app.c" "$l/libisafuture.so.1" \
  -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib'
gcc -O2 -static -o "$b/static-abi-tag-9" "$src/hello.c" "$here/abi-tag-9.s"
gcc -O2 -shared -fPIC -nostdlib -Wl,-soname,libabi9.so.1 -o "$l/libabi9.so.1" \
  "$here/lib.c" "$here/abi-tag-9.s"
gcc -O2 -nostdlib -fno-stack-protector -o "$b/app-abi9" "$here/nolibc.c" "$l/libabi9.so.1" \
  -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib' -Wl,-dynamic-linker,/lib64/ld-linux-x86-64.so.2
