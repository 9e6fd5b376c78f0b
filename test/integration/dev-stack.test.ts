// Smoke test of `npm run dev`: it comes up (its own API server, LiteLLM test server, gateway
// and operator), applies examples/ so the example Users become Ready, writes the env file,
// serves the example key through the gateway as the banner and README show (the subscribed
// model answers, another is refused with 403), and on Ctrl-C (SIGINT to its process group, as
// a terminal sends it) stops everything and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { GROUP, VERSION, type User, type VirtualKey } from '../../crds/api/index.ts';
import { authorizeAs } from '../harness/oidc-login.ts';
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
      process.kill(-child.pid!, 'SIGKILL'); // the whole group: bed, LiteLLM, gateway, operator
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('comes up, calls the gateway, and stops cleanly on SIGINT', { timeout: 240_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-tenancy-dev-'));
    const log = join(dir, 'npm-run-dev.log');
    const fd = openSync(log, 'a');
    child = spawn('npm', ['run', 'dev'], {
      cwd: root,
      detached: true, // its own process group, like a terminal's foreground job
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        DEV_DIR: dir,
        LITELLM_PORT: '0',
        HEALTH_PORT: '0',
        GATEWAY_PORT: '0',
        GATEWAY_MANAGEMENT_PORT: '0',
      },
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
        'GATEWAY_URL',
        'KUBECTL',
      ]),
    );
    expect(env.GATEWAY_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
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

    // The example key (examples/gitops/tenant/base/virtual-key.yaml), read from its Secret as the README's
    // kubectl command does, through the gateway: granite-3-8b is subscribed, llama-3-8b not.
    const example = { group: GROUP, version: VERSION, plural: 'virtualkeys' };
    await expect
      .poll(async () => {
        const key = (await kc
          .makeApiClient(CustomObjectsApi)
          .getNamespacedCustomObject({ ...example, namespace: 'ml-research', name: 'chatbot' })
          .catch(() => undefined)) as VirtualKey | undefined;
        return key?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      }, poll)
      .toBe('True');
    const secret = await kc
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ namespace: 'ml-research', name: 'chatbot-openai' });
    const decode = (value: string | undefined) => Buffer.from(value ?? '', 'base64').toString();
    const apiKey = decode(secret.data?.OPENAI_API_KEY);
    expect(apiKey).toMatch(/^sk-/);
    expect(decode(secret.data?.OPENAI_BASE_URL)).toBe(env.GATEWAY_URL);
    const chat = (model: string) =>
      fetch(`${env.GATEWAY_URL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
      });
    const models = await fetch(`${env.GATEWAY_URL}/models`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual([
      'granite-3-8b',
    ]);
    // The audit trail in its own file: the operator's LiteLLM writes for the example key,
    // with the key only as its hash.
    const audit = (await readFile(join(dir, 'audit.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as { action: string; component: string; object?: { name: string } },
      );
    expect(audit).toContainEqual(
      expect.objectContaining({
        component: 'llm-tenancy-operator',
        action: 'litellm.key.create',
        object: expect.objectContaining({
          kind: 'VirtualKey',
          namespace: 'ml-research',
          name: 'chatbot',
        }),
      }),
    );
    expect(JSON.stringify(audit)).not.toContain(apiKey);
    const answered = await chat('granite-3-8b');
    const answer = (await answered.json()) as Record<string, unknown>;
    expect(answered.status, JSON.stringify(answer)).toBe(200);
    expect(answered.headers.get('x-llmtenancy-overhead-ms')).toMatch(/^\d+\.\d+$/);
    expect(answer).toMatchObject({
      object: 'chat.completion',
      model: 'granite-3-8b',
      choices: [{ index: 0, message: { role: 'assistant', content: expect.any(String) } }],
      usage: { total_tokens: expect.any(Number) },
    });
    const refused = await chat('llama-3-8b');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      error: { type: 'key_model_access_denied', param: 'model', code: '403' },
    });

    // The banner's login URL: the demo person signs in through the gateway, and is a member
    // of ml-research through the ml-researchers group.
    const loginUrl = /Sign in from a browser: (\S+)/.exec(await readFile(log, 'utf8'))?.[1];
    expect(loginUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\/login$/);
    const cookies = new Map<string, string>();
    const keep = (res: Response) => {
      for (const c of res.headers.getSetCookie()) {
        const [pair = ''] = c.split(';');
        cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
      }
    };
    const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const start = await fetch(loginUrl!, { redirect: 'manual' });
    keep(start);
    const callback = await authorizeAs(start.headers.get('location')!, 'demo');
    const signedIn = await fetch(new URL(`/auth/callback${callback.search}`, loginUrl), {
      redirect: 'manual',
      headers: { cookie: cookie() },
    });
    expect(signedIn.status, await signedIn.clone().text()).toBe(303);
    keep(signedIn);
    const session = await fetch(new URL('/auth/session', loginUrl), {
      headers: { cookie: cookie() },
    });
    expect(await session.json()).toMatchObject({ user: 'demo', via: 'session' });
    const demo = (await kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'users',
      name: 'demo',
    })) as User;
    expect(demo.status?.teams).toContain('ml-research');

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
    await expect(fetch(`${env.GATEWAY_URL}/models`)).rejects.toThrow();
  });
});
