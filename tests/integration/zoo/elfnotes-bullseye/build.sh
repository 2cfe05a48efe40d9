#!/bin/sh
# zoo/elfnotes-bullseye uses the programs of zoo/elfnotes.
exec "$(dirname "$0")/../elfnotes/build.sh" "$@"
