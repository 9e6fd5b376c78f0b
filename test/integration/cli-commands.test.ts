// kubectl-llm, the real executable, against the real apiserver and an operator running the
// Team, ModelSubscription and VirtualKey controllers (with the LiteLLM test server): every
// command's table output, JSON output parsed, --dry-run=client -o yaml accepted by
// `kubectl apply --dry-run=server`, --wait ending on Ready and on a waiting reason, the
// Team's refusal of a model, and RBAC refusals as a tenant naming the missing verb.
import { readFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { ModelSubscription, Team, VirtualKey } from '../../crds/api/index.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';
import { start, type LiteLLMTestServer } from '../litellm-server/server.ts';
import {
  KeyObjects,
  secretKey,
  startKeyOperator,
  type KeyOperator,
} from './support/key-operator.ts';
import { startApiserverProxy } from './support/apiserver-proxy.ts';
import { kubectlLlm, runProcess, tableRows, type Run } from './support/kubectl-llm.ts';
import { createAll } from './support/principals.ts';
import { poll, suffix, TEST_RUN_LABEL } from './support/team-operator.ts';
import { rbacInEffect, tenantRbac, type Tenant } from './support/tenant-rbac.ts';

const MODELS = ['granite-3-8b', 'llama-3-8b'];

describe('kubectl llm', () => {
  const run = suffix();
  const n = (name: string) => `${name}-${run}`;
  const label = `${TEST_RUN_LABEL}=${run}`;
  let kc: KubeConfig;
  let kubeconfig: string;
  let litellm: LiteLLMTestServer;
  let operator: KeyOperator;
  let objects: KeyObjects;
  const cli = (...args: string[]) => kubectlLlm(kubeconfig, args);
  /** kubectl apply --dry-run=server -f - with `manifest` on stdin. */
  const serverDryRun = (manifest: string) =>
    runProcess(inject('kubectlPath'), ['apply', '--dry-run=server', '-f', '-'], {
      env: { KUBECONFIG: kubeconfig },
      input: manifest,
    });
  const ok = (result: Run) => {
    expect(result.stderr.replace(/^warning: .*\n/gm, ''), result.stdout).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    return result;
  };

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    kubeconfig = inject('kubeconfigPath');
    litellm = await start({ masterKey: 'sk-master-key-for-tests', models: MODELS });
    objects = new KeyObjects(kc, { [TEST_RUN_LABEL]: run });
    operator = await startKeyOperator({
      kc,
      litellm,
      redisUrl: inject('redisUrl'),
      prefix: `test-${run}:`,
      labelSelector: label,
      resyncIntervalMs: 1_500,
    });
  });

  afterAll(async () => {
    await operator?.stop();
    await litellm?.stop();
  });

  /** A namespace and its Team, both made through the CLI. */
  async function team(name: string, flags: string[] = []): Promise<string> {
    const namespace = n(name);
    await objects.namespace(namespace);
    const created = ok(
      await cli(
        'team',
        'create',
        namespace,
        '--namespaces',
        namespace,
        '--labels',
        label,
        ...flags,
      ),
    );
    expect(created.stdout).toBe(`team.llmtenancy.dev/${namespace} created\n`);
    return namespace;
  }

  it('creates a Team and edits it: members, budget, allowed models; lists it as a table and as JSON', async () => {
    const name = await team('edit', ['--models', 'granite-3-8b', '--budget', '100']);
    expect(ok(await cli('team', 'add-member', name, 'alice')).stdout).toBe(
      `team.llmtenancy.dev/${name} member added\n`,
    );
    ok(await cli('team', 'add-member', name, 'bob', '--role', 'admin'));
    const again = ok(await cli('team', 'add-member', name, 'alice'));
    expect(again.stderr).toContain(`alice is already a member of Team ${name}`);
    ok(await cli('team', 'set-budget', name, '250.50', '--budget-duration', '30d'));
    ok(await cli('team', 'allow-model', name, 'llama-3-8b'));

    const stored = (await objects.teams.get(name))!;
    expect(stored.spec.members).toEqual([{ user: 'alice' }, { user: 'bob', role: 'admin' }]);
    expect(stored.spec.limits).toEqual({ maxBudget: '250.50', budgetDuration: '30d' });
    expect(stored.spec.models).toEqual(['granite-3-8b', 'llama-3-8b']);
    expect(stored.metadata.managedFields?.map((f) => f.manager)).toContain('kubectl-llm');

    await expect.poll(async () => condition((await objects.teams.get(name))!), poll).toBe('True');
    const table = ok(await cli('teams', '-l', label));
    const row = tableRows(table.stdout).find((r) => r.NAME === name);
    expect(row).toMatchObject({
      NAMESPACES: name,
      MEMBERS: '2',
      SPEND: expect.stringMatching(/\/250\.50$/),
      READY: 'True',
    });
    const wide = tableRows(ok(await cli('teams', '-l', label, '-o', 'wide')).stdout);
    expect(wide.find((r) => r.NAME === name)?.ALLOWED).toBe('granite-3-8b,llama-3-8b');

    const json = JSON.parse(ok(await cli('teams', '-l', label, '-o', 'json')).stdout) as {
      kind: string;
      items: Team[];
    };
    expect(json.kind).toBe('List');
    expect(json.items.find((t) => t.metadata.name === name)?.spec.limits?.maxBudget).toBe('250.50');
    expect(ok(await cli('teams', '-l', label, '-o', 'name')).stdout).toContain(
      `team.llmtenancy.dev/${name}\n`,
    );
  });

  it('a Team edit never overwrites an edit made between its read and its write', async () => {
    const name = await team('race', ['--members', 'alice']);
    let raced = false;
    // Someone else adds zoe after kubectl-llm read the Team and before its patch arrives.
    const proxy = await startApiserverProxy(kc, {
      before: async (method, path) => {
        if (
          raced ||
          method !== 'PATCH' ||
          !path.startsWith(`/apis/llmtenancy.dev/v1alpha1/teams/${name}?`)
        )
          return;
        raced = true;
        await objects.teams.patch(name, {
          spec: { members: [{ user: 'alice' }, { user: 'zoe' }] },
        });
      },
    });
    try {
      ok(await kubectlLlm(proxy.kubeconfigPath, ['team', 'add-member', name, 'bob']));
    } finally {
      await proxy.close();
    }
    expect(raced).toBe(true);
    expect((await objects.teams.get(name))!.spec.members).toEqual([
      { user: 'alice' },
      { user: 'zoe' },
      { user: 'bob' },
    ]);
  });

  it('refuses a bad --budget with the schema message before asking the apiserver', async () => {
    const result = await cli('team', 'set-budget', n('never'), 'lots');
    // The Team does not exist: a request would have said "not found" instead.
    const created = await cli('team', 'create', n('bad-budget'), '--budget', '12,50');
    expect(created.code).toBe(1);
    expect(created.stderr).toContain('--budget: spec.limits.maxBudget');
    expect(created.stderr).toContain('US dollars: a whole number (100) or a decimal string');
    expect(await objects.teams.get(n('bad-budget'))).toBeUndefined();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`teams.llmtenancy.dev "${n('never')}" not found`);
  });

  it('subscribe: Pending with what would approve it, then Active once the Team allows the model', async () => {
    const namespace = await team('sub', ['--models', 'granite-3-8b']);
    const pending = ok(await cli('subscribe', 'llama-3-8b', '-n', namespace, '--labels', label));
    expect(pending.stdout).toContain(
      `ModelSubscription ${namespace}/llama-3-8b (llama-3-8b): Pending (NotApproved)`,
    );
    expect(pending.stdout).toContain(`kubectl llm team allow-model ${namespace} llama-3-8b`);
    expect(pending.stdout).toContain(`Team ${namespace} allows: granite-3-8b`);

    ok(await cli('team', 'allow-model', namespace, 'llama-3-8b'));
    await expect
      .poll(async () => (await cli('subscribe', 'llama-3-8b', '-n', namespace)).stdout, poll)
      .toContain(': Active');
    const subs = tableRows(ok(await cli('subs', '-n', namespace)).stdout);
    expect(subs).toEqual([
      expect.objectContaining({
        NAME: 'llama-3-8b',
        MODEL: 'llama-3-8b',
        TEAM: namespace,
        PHASE: 'Active',
      }),
    ]);
    const json = JSON.parse(ok(await cli('subs', '-n', namespace, '-o', 'json')).stdout) as {
      items: ModelSubscription[];
    };
    expect(json.items.map((s) => s.status?.phase)).toEqual(['Active']);
    const all = tableRows(ok(await cli('subs', '-A', '-l', label)).stdout);
    expect(all.some((r) => r.NAMESPACE === namespace && r.NAME === 'llama-3-8b')).toBe(true);
  });

  it('key create --wait ends Ready and prints how to use the key, the value only with --show-key', async () => {
    const namespace = await team('key', ['--models', 'granite-3-8b']);
    ok(await cli('subscribe', 'granite-3-8b', '-n', namespace, '--labels', label));
    const created = ok(
      await cli(
        'key',
        'create',
        'chatbot',
        '-n',
        namespace,
        '--models',
        'granite-3-8b',
        '--budget',
        '50',
        '--duration',
        '30d',
        '--labels',
        label,
        '--wait',
      ),
    );
    expect(created.stdout).toContain(`virtualkey.llmtenancy.dev/chatbot created`);
    expect(created.stderr).toContain(`VirtualKey ${namespace}/chatbot is Ready`);
    expect(created.stdout).toContain('envFrom:\n    - secretRef:\n        name: chatbot');
    expect(created.stdout).toContain(
      `export OPENAI_API_KEY="$(kubectl get secret chatbot -n ${namespace} -o jsonpath='{.data.OPENAI_API_KEY}' | base64 -d)"`,
    );
    const value = secretKey(await objects.secret(namespace, 'chatbot'));
    expect(created.stdout + created.stderr).not.toContain(value);

    const shown = ok(
      await cli(
        'key',
        'create',
        'shown',
        '-n',
        namespace,
        '--labels',
        label,
        '--wait',
        '--show-key',
      ),
    );
    const shownValue = secretKey(await objects.secret(namespace, 'shown'));
    expect(shown.stdout).toContain(`export OPENAI_API_KEY='${shownValue}'`);

    // -o json with --wait prints the key once Ready, and nothing else on stdout.
    const waited = JSON.parse(
      ok(
        await cli(
          'key',
          'create',
          'json',
          '-n',
          namespace,
          '--labels',
          label,
          '--wait',
          '-o',
          'json',
        ),
      ).stdout,
    ) as VirtualKey;
    expect(waited.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    const keys = tableRows(ok(await cli('keys', '-n', namespace)).stdout);
    expect(keys.find((r) => r.NAME === 'chatbot')).toMatchObject({
      MODELS: 'granite-3-8b',
      SPEND: expect.stringMatching(/\/50$/),
      EXPIRES: expect.stringMatching(/^in (29|30)d$/),
      READY: 'True',
      REASON: 'KeyReady',
    });
    const json = JSON.parse(ok(await cli('keys', '-n', namespace, '-o', 'json')).stdout) as {
      items: VirtualKey[];
    };
    expect(json.items.map((k) => k.metadata.name).sort()).toEqual(['chatbot', 'json', 'shown']);
    const yaml = parse(ok(await cli('keys', '-n', namespace, '-o', 'yaml')).stdout) as {
      items: VirtualKey[];
    };
    expect(yaml.items).toHaveLength(3);
  });

  it('key create --wait ends on the waiting reason after --timeout, exit 1', async () => {
    const namespace = await team('wait', ['--models', 'granite-3-8b,llama-3-8b']);
    const result = await cli(
      'key',
      'create',
      'early',
      '-n',
      namespace,
      '--models',
      'llama-3-8b',
      '--labels',
      label,
      '--wait',
      '--timeout',
      '10s',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('warning: model llama-3-8b has no Active subscription');
    expect(result.stderr).toContain(
      `VirtualKey ${namespace}/early is not Ready after 10s: ModelsNotSubscribed:`,
    );
    expect(result.stderr).toContain(
      `next: subscribe to the missing models: kubectl llm subscribe MODEL -n ${namespace}`,
    );
  });

  it('key create refuses a model the Team does not allow, and writes nothing', async () => {
    const namespace = await team('refused', ['--models', 'granite-3-8b']);
    const result = await cli('key', 'create', 'app', '-n', namespace, '--models', 'llama-3-8b');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `model llama-3-8b is not allowed by Team ${namespace} (it allows: granite-3-8b)`,
    );
    expect(result.stderr).toContain(`kubectl llm team allow-model ${namespace} llama-3-8b`);
    expect(await objects.getKey(namespace, 'app')).toBeUndefined();
  });

  it('key suspend, resume and delete', async () => {
    const namespace = await team('life', ['--models', 'granite-3-8b']);
    ok(await cli('key', 'create', 'app', '-n', namespace, '--labels', label));
    expect(ok(await cli('key', 'suspend', 'app', '-n', namespace)).stdout).toBe(
      'virtualkey.llmtenancy.dev/app suspended\n',
    );
    expect((await objects.getKey(namespace, 'app'))?.spec.suspended).toBe(true);
    ok(await cli('key', 'resume', 'app', '-n', namespace));
    expect((await objects.getKey(namespace, 'app'))?.spec.suspended).toBe(false);
    expect(ok(await cli('key', 'delete', 'app', '-n', namespace)).stdout).toBe(
      'virtualkey.llmtenancy.dev/app deleted\n',
    );
    await expect.poll(() => objects.getKey(namespace, 'app'), poll).toBeUndefined();
    const missing = await cli('key', 'suspend', 'app', '-n', namespace);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `virtualkeys.llmtenancy.dev "app" not found in namespace ${namespace}`,
    );
  });

  it('key rotate --wait: a new key in the Secret, the old one working for the grace period; a second request waits for its end; --dry-run=client -o yaml', async () => {
    const namespace = await team('rotate', ['--models', 'granite-3-8b']);
    ok(await cli('subscribe', 'granite-3-8b', '-n', namespace, '--labels', label));
    ok(await cli('key', 'create', 'app', '-n', namespace, '--labels', label, '--wait'));
    const before = (await objects.getKey(namespace, 'app'))!;
    const oldValue = secretKey(await objects.secret(namespace, 'app'));

    // --dry-run=client -o yaml: the request as Git would keep it, accepted by the API server.
    const manifest = ok(
      await cli('key', 'rotate', 'app', '-n', namespace, '--dry-run=client', '-o', 'yaml'),
    ).stdout;
    expect((parse(manifest) as VirtualKey).spec.rotation?.requestedAt).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    expect((await serverDryRun(manifest)).code).toBe(0);
    expect(secretKey(await objects.secret(namespace, 'app'))).toBe(oldValue);

    const rotated = ok(await cli('key', 'rotate', 'app', '-n', namespace, '--wait'));
    expect(rotated.stdout).toBe('virtualkey.llmtenancy.dev/app rotation requested\n');
    expect(rotated.stderr).toMatch(
      new RegExp(
        `VirtualKey ${namespace}/app rotated: the new key is in Secret app; the previous key works until \\S+Z\n$`,
      ),
    );
    const after = (await objects.getKey(namespace, 'app'))!;
    expect(after.status?.previousKey?.keyId).toBe(before.status?.keyId);
    expect(after.status?.keyId).not.toBe(before.status?.keyId);
    expect(secretKey(await objects.secret(namespace, 'app'))).not.toBe(oldValue);
    // The old key still works in LiteLLM for the grace period (1h by default).
    expect(litellm.store.keys.get(before.status!.keyId!)?.blocked).not.toBe(true);
    expect(
      Date.parse(after.status!.previousKey!.validUntil) - Date.parse(after.status!.lastRotatedAt!),
    ).toBe(3_600_000);

    // A second request within the grace period waits for its end: --wait says so, and times out.
    const waiting = await cli(
      'key',
      'rotate',
      'app',
      '-n',
      namespace,
      '--wait',
      '--timeout',
      '3s',
      '-o',
      'json',
    );
    expect(waiting.code).toBe(1);
    expect(waiting.stdout).toBe('');
    expect(waiting.stderr).toContain('a previous key is still in its grace period until');
    expect(waiting.stderr).toContain(`VirtualKey ${namespace}/app has not rotated after 3s`);
    expect((await objects.getKey(namespace, 'app'))!.status?.keyId).toBe(after.status?.keyId);
  });

  it('user create and users', async () => {
    const name = n('carol');
    ok(
      await cli(
        'user',
        'create',
        name,
        '--email',
        'carol@example.com',
        '--role',
        'manager',
        '--labels',
        label,
      ),
    );
    const row = tableRows(ok(await cli('users', '-l', label)).stdout).find((r) => r.NAME === name);
    expect(row).toMatchObject({ EMAIL: 'carol@example.com', ROLE: 'manager' });
  });

  it('--dry-run=client -o yaml prints manifests kubectl apply --dry-run=server accepts, and sends nothing', async () => {
    const namespace = await team('gitops', ['--models', 'granite-3-8b', '--members', 'alice']);
    const manifests = [
      await cli(
        'team',
        'create',
        n('git-team'),
        '--namespaces',
        n('git-team'),
        '--models',
        'granite-3-8b',
        '--budget',
        '10',
        '--dry-run=client',
        '-o',
        'yaml',
      ),
      await cli(
        'user',
        'create',
        n('git-user'),
        '--email',
        'dave@example.com',
        '--dry-run=client',
        '-o',
        'yaml',
      ),
      await cli(
        'key',
        'create',
        'git-key',
        '-n',
        namespace,
        '--models',
        'granite-3-8b',
        '--rotate-every',
        '30d',
        '--dry-run=client',
        '-o',
        'yaml',
      ),
      await cli('subscribe', 'granite-3-8b', '-n', namespace, '--dry-run=client', '-o', 'yaml'),
      await cli('team', 'add-member', namespace, 'erin', '--dry-run=client', '-o', 'yaml'),
      await cli('team', 'set-budget', namespace, '99', '--dry-run=client', '-o', 'yaml'),
      await cli('team', 'allow-model', namespace, 'llama-3-8b', '--dry-run=client', '-o', 'yaml'),
    ].map((r) => ok(r).stdout);
    for (const manifest of manifests) {
      const applied = await serverDryRun(manifest);
      // Only kubectl's own warning about objects not made by kubectl apply is acceptable.
      const complaints = applied.stderr.split('\n').filter((l) => l && !l.startsWith('Warning:'));
      expect(complaints, manifest).toEqual([]);
      expect(applied.code).toBe(0);
      expect(applied.stdout).toMatch(/(created|configured) \(server dry run\)\n$/);
    }
    // What the edits print is the Team as Git keeps it: no status, server metadata or defaults.
    const edited = parseAllDocuments(manifests[4]!)[0]!.toJS() as Record<string, never>;
    expect(edited).toEqual({
      apiVersion: 'llmtenancy.dev/v1alpha1',
      kind: 'Team',
      metadata: { name: namespace, labels: { [TEST_RUN_LABEL]: run } },
      spec: {
        namespaces: [namespace],
        models: ['granite-3-8b'],
        members: [{ user: 'alice' }, { user: 'erin' }],
      },
    });
    expect(await objects.teams.get(n('git-team'))).toBeUndefined();
    expect(await objects.getKey(namespace, 'git-key')).toBeUndefined();
    expect((await objects.teams.get(namespace))!.spec.members).toEqual([{ user: 'alice' }]);
  });

  it('--dry-run=server lets the apiserver validate without saving', async () => {
    const result = ok(await cli('team', 'create', n('server-dry'), '--dry-run=server'));
    expect(result.stdout).toBe(`team.llmtenancy.dev/${n('server-dry')} created (server dry run)\n`);
    expect(await objects.teams.get(n('server-dry'))).toBeUndefined();
    // A CEL rule only the apiserver checks comes back as its message.
    const refused = await cli(
      'team',
      'create',
      n('server-cel'),
      '--models',
      '*,granite-3-8b',
      '--dry-run=server',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("'*' already allows every model; list it alone");
  });

  it('as a tenant: RBAC refusals name the verb, the resource and the namespace', async () => {
    const namespace = await team('tenant', ['--models', 'granite-3-8b']);
    const tenant: Tenant = { namespace, group: n('tenants'), user: n('tina') };
    await createAll(kc, await tenantRbac(run, [tenant]));
    await rbacInEffect(kc, { user: tenant.user, groups: [tenant.group] }, namespace);
    const as = ['--as', tenant.user, '--as-group', tenant.group];

    // Allowed: their namespace's keys, and reading their Team.
    ok(await cli('keys', '-n', namespace, ...as));
    ok(await cli('key', 'create', 'mine', '-n', namespace, '--labels', label, ...as));

    const edit = await cli('team', 'allow-model', namespace, 'llama-3-8b', ...as);
    expect(edit.code).toBe(1);
    expect(edit.stderr).toContain(
      'forbidden: you may not patch teams.llmtenancy.dev at cluster scope',
    );
    const other = n('other');
    await objects.namespace(other);
    const key = await cli('key', 'create', 'theirs', '-n', other, ...as);
    expect(key.code).toBe(1);
    expect(key.stderr).toContain(
      `forbidden: you may not create virtualkeys.llmtenancy.dev at namespace ${other}`,
    );
    expect(key.stderr).toContain(
      `ask a cluster admin for "create" on virtualkeys.llmtenancy.dev in ${other}`,
    );
    // status as a tenant: what RBAC hides is said, and counts fall back to their namespace.
    const status = await cli('status', '-n', namespace, ...as);
    expect(status.stdout).toContain(
      'Operator  cannot tell: forbidden: you may not list leases.coordination.k8s.io at cluster scope',
    );
    const counts = tableRows(status.stdout.slice(status.stdout.indexOf('KIND')));
    expect(counts.find((c) => c.KIND === 'VirtualKey')).toMatchObject({
      READY: expect.any(String),
      SCOPE: `namespace ${namespace}`,
    });
    expect(counts.find((c) => c.KIND === 'Team')?.SCOPE).toBe('cluster');

    const list = await cli('keys', '-A', ...as);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain(
      'forbidden: you may not list virtualkeys.llmtenancy.dev at cluster scope',
    );
  });

  it('reads the kubeconfig named by --kubeconfig and refuses an unknown context', async () => {
    const result = await kubectlLlm('/nonexistent', [
      'teams',
      '--kubeconfig',
      kubeconfig,
      '--context',
      'nope',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('context "nope" is not in the kubeconfig');
    expect((await readFile(kubeconfig, 'utf8')).length).toBeGreaterThan(0);
  });
});

function condition(object: { status?: { conditions?: { type: string; status: string }[] } }) {
  return object.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}
