#!/bin/sh
# dash runs it: an entrypoint that execs CMD.
exec "$@"
