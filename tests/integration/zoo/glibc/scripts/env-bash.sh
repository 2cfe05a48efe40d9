#!/usr/bin/env bash
# bash exists in bookworm: a healthy env shebang.
echo "zoo: ok $0"
