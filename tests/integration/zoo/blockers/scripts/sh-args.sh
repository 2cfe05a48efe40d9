#!/bin/sh -eu
echo "zoo: ok $0"
