#!/usr/bin/env sh
echo "zoo: ok $0"
