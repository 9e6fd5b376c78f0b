// examples/gitops/argocd/health-checks.yaml under a real Lua 5.1 (Debian's lua5.1, the dialect
// Argo CD embeds), as Argo CD runs a health script: the object as the global `obj`, the
// script's returned table read for status and message. Fixtures cover each verdict.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const LUA = process.env.LUA ?? 'lua5.1';
const KINDS = ['Team', 'User', 'ModelSubscription', 'VirtualKey'] as const;

async function healthScripts(): Promise<Record<string, string>> {
  const file = new URL('../../examples/gitops/argocd/health-checks.yaml', import.meta.url);
  const configMap = parse(await readFile(file, 'utf8')) as { data: Record<string, string> };
  return configMap.data;
}

/** A JSON value as a Lua table constructor. */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`)
    .join(', ')}}`;
}

function runHealth(script: string, obj: unknown): Promise<{ status: string; message: string }> {
  const program = [
    `obj = ${toLua(obj)}`,
    'local function health()',
    script,
    'end',
    'local hs = health()',
    'io.write(hs.status, "\\n", hs.message or "")',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = execFile(LUA, ['-'], (err, stdout, stderr) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new Error(
            missing
              ? `${LUA} is not installed (apt-get install lua5.1; .ci/run does): the Argo CD health checks cannot be tested`
              : `lua failed: ${stderr}`,
          ),
        );
        return;
      }
      const [status = '', ...rest] = stdout.split('\n');
      resolve({ status, message: rest.join('\n') });
    });
    child.stdin!.end(program);
  });
}

const object = (kind: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind,
  metadata: { name: 'x', generation: 2 },
  spec: {},
  ...extra,
});
const ready = (status: string, reason: string, message: string, observedGeneration = 2) => ({
  status: {
    observedGeneration,
    conditions: [
      { type: 'Synced', status: 'True', reason: 'ReconcileSuccess' },
      { type: 'Ready', status, reason, message, observedGeneration },
    ],
  },
});

describe('the Argo CD health checks', () => {
  it('ship one script for each of the four kinds', async () => {
    const scripts = await healthScripts();
    for (const kind of KINDS) {
      expect(scripts[`resource.customizations.health.llmtenancy.dev_${kind}`], kind).toContain(
        'obj.status',
      );
    }
  });

  describe.each(KINDS)('for a %s', (kind) => {
    const script = async () =>
      (await healthScripts())[`resource.customizations.health.llmtenancy.dev_${kind}`]!;

    it('is Healthy when Ready=True for the current generation', async () => {
      const hs = await runHealth(
        await script(),
        object(kind, ready('True', 'Reconciled', 'in sync with LiteLLM')),
      );
      expect(hs).toEqual({ status: 'Healthy', message: 'Reconciled: in sync with LiteLLM' });
    });

    it('is Progressing before the operator has a verdict, or for an older generation', async () => {
      expect((await runHealth(await script(), object(kind))).status).toBe('Progressing');
      const stale = await runHealth(
        await script(),
        object(kind, ready('True', 'Reconciled', 'in sync', 1)),
      );
      expect(stale).toEqual({
        status: 'Progressing',
        message: 'The operator has not reconciled generation 2 yet',
      });
    });

    it('is Progressing while LiteLLM is down, and Degraded when someone must act', async () => {
      const down = await runHealth(
        await script(),
        object(kind, ready('False', 'LiteLLMUnavailable', 'connection refused')),
      );
      expect(down).toEqual({
        status: 'Progressing',
        message: 'LiteLLMUnavailable: connection refused',
      });
      const conflict = await runHealth(
        await script(),
        object(kind, ready('False', 'LiteLLMTeamConflict', 'team id held by Team/other')),
      );
      expect(conflict).toEqual({
        status: 'Degraded',
        message: 'LiteLLMTeamConflict: team id held by Team/other',
      });
    });
  });

  it('is Suspended for a suspended VirtualKey, whatever its conditions say', async () => {
    const script = (await healthScripts())[
      'resource.customizations.health.llmtenancy.dev_VirtualKey'
    ]!;
    const hs = await runHealth(script, {
      ...object('VirtualKey', ready('False', 'Suspended', 'the key is suspended')),
      spec: { suspended: true, models: ['granite-3-8b'] },
    });
    expect(hs).toEqual({ status: 'Suspended', message: 'Suspended (spec.suspended)' });
  });

  it('is Progressing for a subscription waiting for its Team, Degraded for a model LiteLLM lacks', async () => {
    const script = (await healthScripts())[
      'resource.customizations.health.llmtenancy.dev_ModelSubscription'
    ]!;
    const waiting = await runHealth(
      script,
      object('ModelSubscription', ready('False', 'NotApproved', 'Team ml does not allow it')),
    );
    expect(waiting.status).toBe('Progressing');
    const missing = await runHealth(
      script,
      object('ModelSubscription', ready('False', 'ModelNotFound', 'no such model')),
    );
    expect(missing.status).toBe('Degraded');
  });
});
