#!/bin/sh
# An entrypoint that runs its arguments (CMD): coroner must follow it to CMD.
set -e
exec "$@"
