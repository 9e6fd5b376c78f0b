// `npm run bench [-- name…]`: runs each benchmark in its own Node process, one after another
// (never side by side: they would measure each other), and says which ones failed. A bench
// is a script in this directory that prints its tables and writes .bench/<name>.json; to
// add one, add its file name to BENCHES. Processes get --expose-gc so memory figures can be
// taken after a collection. Arguments starting with -- go to every bench run, after its
// name: `npm run bench -- gateway --profile`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = ['operator-keys.ts', 'gateway.ts'];

const dir = fileURLToPath(new URL('./', import.meta.url));
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const wanted = args.filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((w) => !BENCHES.some((b) => b.replace(/\.ts$/, '') === w));
if (unknown.length > 0) {
  console.error(
    `unknown bench ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.replace(/\.ts$/, '')).join(', ')}`,
  );
  process.exit(2);
}
const selected =
  wanted.length > 0 ? BENCHES.filter((b) => wanted.includes(b.replace(/\.ts$/, ''))) : BENCHES;

// Ctrl-C reaches the bench processes too (same process group); they stop their test beds.
// Ignore it here so the summary still prints once they are done.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

const results: { bench: string; code: number | null; signal: string | null; seconds: number }[] =
  [];
for (const bench of selected) {
  console.log(`\n=== bench ${bench}\n`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--expose-gc', `${dir}${bench}`, ...flags], {
    stdio: 'inherit',
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
    child.on('exit', (c, s) => resolve([c, s]));
    child.on('error', (err) => {
      console.error(`could not start ${bench}: ${err.message}`);
      resolve([null, null]);
    });
  });
  results.push({ bench, code, signal, seconds: (performance.now() - started) / 1000 });
}

console.log('\n=== summary');
for (const r of results) {
  const outcome =
    r.code === 0 ? 'ok' : r.signal ? `killed by ${r.signal}` : `failed (exit ${r.code})`;
  console.log(`${r.bench.padEnd(24)} ${outcome.padEnd(20)} ${r.seconds.toFixed(0)} s`);
}
process.exitCode = results.every((r) => r.code === 0) ? 0 : 1;
