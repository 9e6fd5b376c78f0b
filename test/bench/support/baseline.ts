// A second gateway build for the gateway bench to run beside this one (BENCH_GATEWAY_BASELINE):
// the tree of a git commit of this repository, exported with `git archive` (no worktree is
// registered, nothing is written to this checkout) into
// ~/.cache/llm-tenancy/bench-baseline/<commit>/, with its own `npm ci`, so the old build
// runs on its own dependencies. Kept there for the next run: a second run with the same
// commit starts at once. Delete the directory to drop it.
import { spawn } from 'node:child_process';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Baseline {
  /** The ref as asked (e.g. main) and the commit it named. */
  ref: string;
  commit: string;
  dir: string;
  /** Its gateway/src/server.ts, for BENCH_GATEWAY_MODULE. */
  module: string;
}

/** Exports `ref` of the repository at `repoDir` and installs its dependencies, once per commit. */
export async function prepareBaseline(repoDir: string, ref: string): Promise<Baseline> {
  const commit = (await run('git', ['rev-parse', '--verify', `${ref}^{commit}`], repoDir)).trim();
  const root = join(
    process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
    'llm-tenancy/bench-baseline',
  );
  const dir = join(root, commit);
  const module = join(dir, 'gateway/src/server.ts');
  // The marker is written last: a directory without it is a half-made one (a killed run).
  const done = join(dir, '.bench-baseline-ready');
  if (!(await exists(done))) {
    console.log(
      `baseline: exporting ${ref} (${commit.slice(0, 12)}) to ${dir} and running npm ci…`,
    );
    const partial = `${dir}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    await run('sh', ['-c', `git archive ${commit} | tar -x -C "${partial}"`], repoDir);
    await run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], partial);
    await run('touch', [join(partial, '.bench-baseline-ready')], partial);
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
  }
  if (!(await exists(module))) throw new Error(`baseline ${ref} (${commit}) has no ${module}`);
  return { ref, commit, dir, module };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command, returns its stdout; its stderr goes to ours; throws on a non-zero exit. */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')}: exit ${code}`)),
    );
  });
}
