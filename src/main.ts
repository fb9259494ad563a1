#!/usr/bin/env node
// The V8 compile cache makes every start after the first noticeably faster (a CLI in a CI
// loop starts often). It must be enabled before the program's modules load, hence the
// dynamic import below.
// (A namespace import, so an older Node without it still starts rather than failing to link.)
import * as nodeModule from "node:module";

nodeModule.enableCompileCache?.();
const { main } = await import("./cli/program.ts");
process.exitCode = await main(process.argv.slice(2));
