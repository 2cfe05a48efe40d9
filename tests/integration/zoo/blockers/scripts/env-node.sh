#!/usr/bin/env node
console.log("zoo: ok")
