// Instruction counts of a server process, from valgrind's callgrind: a measure that does not
// move with the machine's load (CPU steal, neighbours), unlike wall-clock req/s or CPU time.
// The server starts under callgrind with instrumentation off (start-up is not counted, and
// runs faster); callgrind_control turns it on once the server is warm, and every dump writes
// the instructions executed (all threads: main, GC helpers, compiler) since the one before,
// so a dump after N requests is those N requests' cost, start-up and warm-up excluded.
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The command prefix that starts a process under callgrind, its dumps named `<outFile>.<n>`. */
export function callgrindWrapper(outFile: string): string[] {
  return ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outFile}`];
}

/** True when valgrind and callgrind_control are on PATH. */
export async function callgrindAvailable(): Promise<boolean> {
  try {
    await run('valgrind', ['--version']);
    await run('callgrind_control', ['--version']).catch(async () => {
      await run('which', ['callgrind_control']);
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * The variables valgrind names its vgdb pipes by (/tmp/vgdb-pipe-…-by-$USER-on-$HOST): a
 * server started with HOST=127.0.0.1 (the gateway's listen address) must be reached with the
 * same, or callgrind_control finds it but its commands never arrive.
 */
export interface PipeNames {
  HOST?: string;
  USER?: string;
  LOGNAME?: string;
}

/** Turns instrumentation of process `pid` on (counting starts) or off. */
export async function instrument(pid: number, on: boolean, names: PipeNames = {}): Promise<void> {
  await control(pid, ['-i', on ? 'on' : 'off'], names);
}

/** callgrind_control exits 0 whatever happened: only its "OK" says the command was taken. */
async function control(pid: number, args: string[], names: PipeNames): Promise<void> {
  const { stdout, stderr } = await run('callgrind_control', [...args, String(pid)], {
    timeout: 300_000,
    env: { ...process.env, ...names },
  });
  if (!/\bOK\b/.test(stdout)) {
    throw new Error(`callgrind_control ${args.join(' ')} ${pid}: ${stdout}${stderr}`.trim());
  }
}

/**
 * Dumps process `pid`'s counts since its last dump (or since instrumentation began) and
 * returns the instructions in it and its file; `outFile` is the wrapper's --callgrind-out-file.
 */
export async function dumpInstructions(
  pid: number,
  outFile: string,
  names: PipeNames = {},
): Promise<{ instructions: number; file: string }> {
  const before = new Set(await dumps(outFile));
  await control(pid, ['-d'], names);
  // The dump is written by the process itself, shortly after the command returns.
  for (let tries = 0; tries < 600; tries++) {
    const fresh = (await dumps(outFile)).filter((f) => !before.has(f));
    for (const file of fresh) {
      const total = totalOf(await readFile(file, 'utf8'));
      if (total !== undefined) return { instructions: total, file };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`callgrind wrote no dump for ${pid} (${outFile}.<n>)`);
}

async function dumps(outFile: string): Promise<string[]> {
  const dir = dirname(outFile);
  const prefix = `${basename(outFile)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix)).map((n) => join(dir, n));
}

/** The `totals:` (or `summary:`) line of a callgrind dump: its instructions. */
function totalOf(text: string): number | undefined {
  const match = /^(?:totals|summary): (\d+)/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * Self instructions by function in one dump (callgrind_annotate), named "function [object]";
 * code without a symbol (V8's JIT output) summed as "JIT code".
 */
export async function annotate(file: string): Promise<Record<string, number>> {
  const { stdout } = await run('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const out: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    const match = /^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+)$/.exec(line);
    if (!match || match[2] === 'PROGRAM TOTALS') continue;
    const n = Number(match[1]!.replaceAll(',', ''));
    const name = nameOf(match[2]!);
    out[name] = (out[name] ?? 0) + n;
  }
  return out;
}

/** "???:Builtins_LoadIC [/…/node]" → "Builtins_LoadIC [node]"; unnamed code → "JIT code". */
function nameOf(entry: string): string {
  const object = /\[([^\]]*)\]$/.exec(entry)?.[1] ?? '';
  const fn = entry
    .replace(/\s*\[[^\]]*\]$/, '')
    .replace(/^[^:]*:/, '')
    .replace(/'\d+$/, '');
  if (object === '???' || /^0x[0-9a-f]+$/i.test(fn)) return 'JIT code';
  return `${fn} [${basename(object)}]`;
}
