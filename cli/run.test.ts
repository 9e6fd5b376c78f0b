// Argument handling: which command the words pick, kubectl's flags, and the exit codes
// (0 ok, 1 error, 2 usage), without any cluster.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Io } from './command.ts';
import { findCommand, run } from './run.ts';

function capture(): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    interactive: false,
    env: {},
    stdout: () => out,
    stderr: () => err,
  };
}

describe('findCommand', () => {
  it('takes the command from the leading words, skipping global flags and their values', () => {
    expect(findCommand(['key', 'create', 'app']).command?.name).toBe('key create');
    expect(findCommand(['-n', 'key', 'key', 'create', 'app']).command?.name).toBe('key create');
    expect(findCommand(['--context', 'teams', 'keys', '-A']).command?.name).toBe('keys');
    expect(findCommand(['--namespace=x', 'subs']).command?.name).toBe('subs');
    expect(findCommand(['key']).command).toBeUndefined();
    expect(findCommand(['nope']).command).toBeUndefined();
  });
});

describe('run', () => {
  it('prints the command list for no arguments with --help (exit 0), and asks for one without (exit 2)', async () => {
    const help = capture();
    expect(await run(['--help'], help)).toBe(0);
    expect(help.stdout()).toContain('key create');
    expect(help.stdout()).toContain('Exit codes: 0 success, 1 error, 2 wrong usage.');
    const none = capture();
    expect(await run([], none)).toBe(0);
    const unknown = capture();
    expect(await run(['frobnicate'], unknown)).toBe(2);
    expect(unknown.stderr()).toContain('unknown command "frobnicate"');
  });

  it('has --help on every command, naming its own flags and the global ones', async () => {
    for (const words of [['status'], ['key', 'create'], ['team', 'set-budget'], ['completion']]) {
      const io = capture();
      expect(await run([...words, '--help'], io)).toBe(0);
      expect(io.stdout()).toContain(`kubectl llm ${words.join(' ')} `);
      expect(io.stdout()).toContain('--kubeconfig FILE');
    }
    const io = capture();
    await run(['key', 'create', '-h'], io);
    expect(io.stdout()).toContain('--rotate-every DURATION');
    expect(io.stdout()).toContain('--dry-run MODE');
  });

  it('exits 2 with the usage line for unknown flags, missing or extra arguments and bad values', async () => {
    const cases: [string[], string][] = [
      [['teams', '--frobnicate'], "Unknown option '--frobnicate'"],
      [['key', 'create'], 'missing argument: kubectl llm key create NAME'],
      [['team', 'add-member', 'a'], 'missing argument'],
      [['teams', 'extra'], 'unexpected argument "extra"'],
      [['teams', '-o', 'xml'], '--output must be one of table, wide, json, yaml, name, not "xml"'],
      [['team', 'create', 'a', '--dry-run=maybe'], '--dry-run must be client, server or none'],
      [['key', 'create', 'a', '--timeout', 'soon'], '--timeout must be a duration'],
      [['completion', 'fish'], 'completion is for bash or zsh, not "fish"'],
      [['user', 'create', 'a'], '--email is required'],
    ];
    for (const [args, message] of cases) {
      const io = capture();
      expect(await run(args, io), args.join(' ')).toBe(2);
      expect(io.stderr(), args.join(' ')).toContain(message);
    }
    const io = capture();
    await run(['key', 'create'], io);
    expect(io.stderr()).toContain('Usage: kubectl llm key create NAME');
  });

  it('exits 1 for a value the schema refuses, before any connection is made', async () => {
    const io = capture();
    const code = await run(
      ['team', 'create', 'a', '--budget', 'ten', '--kubeconfig', '/nonexistent/kubeconfig'],
      io,
    );
    expect(code).toBe(1);
    expect(io.stderr()).toContain('--budget: spec.limits.maxBudget');
    expect(io.stderr()).not.toContain('kubeconfig');
  });

  it('exits 1 with the file named when the kubeconfig cannot be read', async () => {
    const io = capture();
    expect(await run(['teams', '--kubeconfig', '/nonexistent/kubeconfig'], io)).toBe(1);
    expect(io.stderr()).toContain('cannot read the kubeconfig /nonexistent/kubeconfig');
  });

  it('prints a bash completion script that bash accepts', async () => {
    const io = capture();
    expect(await run(['completion', 'bash'], io)).toBe(0);
    expect(io.stdout()).toContain('complete -F _kubectl_llm kubectl-llm');
    expect(io.stdout()).toContain('"key create") flags="--models');
    expect(spawnSync('bash', ['-n'], { input: io.stdout() }).status).toBe(0);
    const zsh = capture();
    expect(await run(['completion', 'zsh'], zsh)).toBe(0);
    expect(zsh.stdout()).toMatch(/^#compdef kubectl-llm\n/);
  });
});
