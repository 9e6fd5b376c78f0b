// Smoke test of `npm run dev`: it comes up (its own API server, LiteLLM test server and
// operator), applies examples/ so the example Users become Ready, writes the env file, and on
// Ctrl-C (SIGINT to its process group, as a terminal sends it) stops everything and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { GROUP, VERSION, type User } from '../../crds/api/index.ts';
import { tailOfLog } from '../harness/process.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const poll = { timeout: 120_000, interval: 250 };

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const eq = line.indexOf('=');
        return [line.slice(0, eq), line.slice(eq + 1).replace(/^'(.*)'$/, '$1')];
      }),
  );
}

describe('npm run dev', () => {
  let child: ChildProcess | undefined;
  let dir: string | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGKILL'); // the whole group: bed, LiteLLM, operator
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('comes up, writes .dev/env, and stops cleanly on SIGINT', { timeout: 240_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-dev-'));
    const log = join(dir, 'npm-run-dev.log');
    const fd = openSync(log, 'a');
    child = spawn('npm', ['run', 'dev'], {
      cwd: root,
      detached: true, // its own process group, like a terminal's foreground job
      stdio: ['ignore', fd, fd],
      env: { ...process.env, DEV_DIR: dir, LITELLM_PORT: '0', HEALTH_PORT: '0' },
    });
    closeSync(fd);
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const envFile = join(dir, 'env');

    await expect
      .poll(async () => {
        if (child!.exitCode !== null)
          throw new Error(`npm run dev exited:\n${await tailOfLog(log)}`);
        return existsSync(envFile);
      }, poll)
      .toBe(true);
    const env = parseEnv(await readFile(envFile, 'utf8'));
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        'KUBECONFIG',
        'LITELLM_URL',
        'LITELLM_MASTER_KEY',
        'REDIS_URL',
        'KUBECTL',
      ]),
    );
    expect(await readFile(log, 'utf8')).toContain('llm-tenancy dev stack ready');

    // What the banner promises: the example Users, reconciled by the operator into LiteLLM.
    const kc = new KubeConfig();
    kc.loadFromFile(env.KUBECONFIG!);
    const alice = (await kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'users',
      name: 'alice',
    })) as User;
    expect(alice.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const info = await fetch(`${env.LITELLM_URL}/user/info?user_id=alice`, {
      headers: { authorization: `Bearer ${env.LITELLM_MASTER_KEY}` },
    });
    expect(info.status).toBe(200);

    process.kill(-child.pid!, 'SIGINT');
    // npm re-raises the Ctrl-C it got once its script has exited, as in a terminal.
    const [code, signal] = await exited;
    expect({ code, signal }, await tailOfLog(log)).toSatisfy(
      (exit: { code: number | null; signal: string | null }) =>
        exit.code === 0 || exit.signal === 'SIGINT',
    );
    // Everything the stack started was in its process group: the group empties.
    const groupAlive = () => {
      try {
        process.kill(-child!.pid!, 0);
        return true;
      } catch {
        return false;
      }
    };
    await expect.poll(groupAlive, poll).toBe(false);
    const output = await readFile(log, 'utf8');
    expect(output).toContain('stopping…');
    expect(output).not.toMatch(/failed|did not start/);
    expect(existsSync(envFile)).toBe(false);
    await expect(fetch(`${env.LITELLM_URL}/health/readiness`)).rejects.toThrow();
  });
});
