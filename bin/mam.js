#!/usr/bin/env node
// The `mam` command. Loads the TypeScript sources through tsx so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main, guardProcess } = await import('../src/cli/main.ts');
guardProcess(process.argv.slice(2));
process.exitCode = await main(process.argv.slice(2));
