#!/usr/bin/env node
// The V8 compile cache makes every start after the first noticeably faster (a CLI in a CI
// loop starts often). It must be enabled before the program's modules load, hence the
// dynamic import below.
import { enableCompileCache } from "node:module";

enableCompileCache?.();
const { main } = await import("./cli/program.ts");
process.exitCode = await main(process.argv.slice(2));
