// What a user sees: `kubectl apply -k examples/` (both GitOps bases) works, `kubectl get` prints readable
// columns, and status can only be written through the /status subresource.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { inject, describe, expect, it } from 'vitest';
import { GROUP, VERSION } from '../../crds/api/index.ts';
import { aTeam } from '../fixtures/builders.ts';
import { kubeConfigFromInject } from '../harness/kube.ts';

const run = promisify(execFile);
const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run(inject('kubectlPath'), [
    '--kubeconfig',
    inject('kubeconfigPath'),
    ...args,
  ]);
  return stdout;
}

/** kubectl with a manifest on stdin; resolves with the exit code instead of throwing. */
function kubectlWithInput(
  input: string,
  ...args: string[]
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      inject('kubectlPath'),
      ['--kubeconfig', inject('kubeconfigPath'), ...args],
      (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }),
    );
    child.stdin?.end(input);
  });
}

describe('examples/', () => {
  it('kubectl apply -k examples/ accepts every manifest (strict field validation)', async () => {
    const out = await kubectl('apply', '-k', examples);
    expect(out).toContain('team.llmtenancy.dev/ml-research created');
    expect(out).toContain('virtualkey.llmtenancy.dev/chatbot created');
    // Applying again changes nothing: defaults come from the CRD, not from a client.
    const again = await kubectl('apply', '-k', examples);
    expect(again).not.toMatch(/configured|created/);
  });

  it('kubectl get teams,users,vk,msub prints the columns a user needs', async () => {
    const out = await kubectl('get', 'teams,users,vk,msub', '-A');
    expect(out).toMatch(/NAME\s+NAMESPACES\s+MEMBERS\s+SPEND\s+BUDGET\s+READY\s+REASON\s+AGE/);
    expect(out).toMatch(/team\.llmtenancy\.dev\/ml-research\s+\["ml-research"\]/);
    expect(out).toMatch(/NAME\s+EMAIL\s+ROLE\s+TEAMS\s+READY\s+REASON\s+AGE/);
    expect(out).toMatch(/user\.llmtenancy\.dev\/alice\s+alice@example\.com\s+manager/);
    expect(out).toMatch(
      /NAMESPACE\s+NAME\s+TEAM\s+MODELS\s+SECRET\s+SPEND\s+BUDGET\s+READY\s+REASON\s+AGE/,
    );
    expect(out).toMatch(/NAMESPACE\s+NAME\s+MODEL\s+TEAM\s+PHASE\s+READY\s+REASON\s+AGE/);
    expect(out).toMatch(/ml-research\s+modelsubscription\.llmtenancy\.dev\/granite\s+granite-3-8b/);
  });

  it('kubectl get llm lists every kind through the category', async () => {
    const out = await kubectl('get', 'llm', '-A', '-o', 'name');
    for (const name of [
      'team.llmtenancy.dev/ml-research',
      'user.llmtenancy.dev/bob',
      'virtualkey.llmtenancy.dev/chatbot',
      'modelsubscription.llmtenancy.dev/granite',
    ]) {
      expect(out).toContain(name);
    }
  });

  it('kubectl apply rejects a misspelled field, naming it', async () => {
    const bad = aTeam('typo').with('spec.modles', ['granite-3-8b']).build();
    const result = await kubectlWithInput(
      JSON.stringify(bad),
      'apply',
      '--dry-run=server',
      '-f',
      '-',
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('unknown field "spec.modles"');
  });
});

describe('status subresource', () => {
  const teams = () => kubeConfigFromInject().makeApiClient(CustomObjectsApi);
  const at = { group: GROUP, version: VERSION, plural: 'teams' };
  const status = {
    observedGeneration: 1,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Synced',
        message: 'in LiteLLM',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  };

  it('ignores status sent with the object and accepts it only through /status', async () => {
    const api = teams();
    const created = await api.createClusterCustomObject({
      ...at,
      body: { ...aTeam('status-only').build(), status },
    });
    expect(created.status).toBeUndefined();

    const written = await api.replaceClusterCustomObjectStatus({
      ...at,
      name: 'status-only',
      body: { ...created, status },
    });
    expect(written.status).toEqual(status);
    expect(written.metadata.generation).toBe(created.metadata.generation);

    const sneaky = {
      ...written,
      status: { ...status, memberCount: 99 },
      spec: { ...written.spec, displayName: 'changed' },
    };
    const updated = await api.replaceClusterCustomObject({
      ...at,
      name: 'status-only',
      body: sneaky,
    });
    expect(updated.spec.displayName).toBe('changed');
    expect(updated.status).toEqual(status);
  });
});
