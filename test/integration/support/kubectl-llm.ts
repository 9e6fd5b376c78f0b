// The real kubectl-llm executable as a child process (its launcher, run by PATH's node as
// kubectl would run it), against the test apiserver through a kubeconfig file; and kubectl
// itself, for piping manifests into `kubectl apply --dry-run=server`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const LAUNCHER = fileURLToPath(new URL('../../../cli/bin/kubectl-llm.js', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function runProcess(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; input?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `kubectl-llm args` with KUBECONFIG set to `kubeconfigPath`. */
export function kubectlLlm(
  kubeconfigPath: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<Run> {
  return runProcess(LAUNCHER, args, { env: { KUBECONFIG: kubeconfigPath, ...env } });
}

/** A kubectl-llm still running: its stderr so far, and its end. */
export interface Running {
  /** Resolves with the first match of `pattern` in stderr, as soon as it is written. */
  stderrMatch(pattern: RegExp): Promise<RegExpMatchArray>;
  done: Promise<Run>;
  kill(): void;
}

/** Starts `kubectl-llm args` (as kubectlLlm) without waiting for it: for commands that wait. */
export function startKubectlLlm(
  kubeconfigPath: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Running {
  const child = spawn(LAUNCHER, args, {
    env: { ...process.env, KUBECONFIG: kubeconfigPath, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiting: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of [...waiting]) {
      const match = w.pattern.exec(stderr);
      if (match) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(match);
      }
    }
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  return {
    done,
    kill: () => child.kill(),
    stderrMatch: (pattern) =>
      new Promise((resolve, reject) => {
        const match = pattern.exec(stderr);
        if (match) return resolve(match);
        waiting.push({ pattern, resolve });
        void done.then((run) =>
          reject(new Error(`kubectl-llm ended (${run.code}) before ${pattern}: ${run.stderr}`)),
        );
      }),
  };
}

/** The rows of a kubectl-style table, as header → cell maps. */
export function tableRows(text: string): Record<string, string>[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0] ?? '';
  // Columns start where a header word starts after two or more spaces (or at 0).
  const starts = [0, ...[...header.matchAll(/ {2,}(\S)/g)].map((m) => m.index! + m[0].length - 1)];
  const names = starts.map((s, i) => header.slice(s, starts[i + 1]).trim());
  return lines
    .slice(1)
    .map((line) =>
      Object.fromEntries(names.map((n, i) => [n, line.slice(starts[i], starts[i + 1]).trim()])),
    );
}
