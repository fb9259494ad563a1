#!/usr/bin/env node
// Composition root; the commands are wired in as they land.
process.stderr.write("pullcheck: no commands yet\n");
process.exitCode = 2;
