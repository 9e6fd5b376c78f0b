#!/usr/bin/env node
// kubectl-llm's launcher. kubectl runs plugins from PATH, so the `node` found first may be
// older than the Node 24 the plugin needs (it runs its TypeScript directly, with Node 24's type
// stripping). Plain JavaScript that any Node can parse: on Node 24 it loads the plugin; on an
// older one it runs the same arguments under the Node 24 the package pins (its `node`
// devDependency), or says what to install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const REQUIRED_MAJOR = 24;
const main = fileURLToPath(new URL('../main.ts', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);

if (major >= REQUIRED_MAJOR) {
  await import(new URL('../main.ts', import.meta.url).href);
} else {
  const candidates = [
    new URL('../../node_modules/node/bin/node', import.meta.url),
    new URL('../../node_modules/.bin/node', import.meta.url),
  ].map((url) => fileURLToPath(url));
  const node = candidates.find((file) => existsSync(file));
  if (!node || process.env.KUBECTL_LLM_REEXEC) {
    process.stderr.write(
      `error: kubectl-llm needs Node.js ${REQUIRED_MAJOR} or later, and this is ${process.version} (${process.execPath}).\n` +
        `Install Node ${REQUIRED_MAJOR} (https://nodejs.org), or run "npm ci" in ${fileURLToPath(new URL('../..', import.meta.url))} to get the pinned one.\n`,
    );
    process.exit(1);
  }
  const result = spawnSync(node, [main, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, KUBECTL_LLM_REEXEC: '1' },
  });
  if (result.error) {
    process.stderr.write(`error: cannot run ${node}: ${result.error.message}\n`);
    process.exit(1);
  }
  process.exit(result.status ?? 1);
}
