#!/usr/bin/env node
// The sampan command. The compiled CLI lives in dist/; build first (`npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('sampan: the command is not built yet (run `npm run build`)');
  process.exit(1);
}
const { main } = await import(cli);
process.exitCode = await main(process.argv.slice(2));
