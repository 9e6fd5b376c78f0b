// The two GitOps repositories applied as their appliers would, against an API server of its own
// with the CRDs, the VirtualKey admission policy and the chart's tenant ClusterRoles installed:
// the platform layer as an admin, the tenant layer as the team's ServiceAccount, impersonated
// the way Flux's kustomize-controller (serviceAccountName) and Argo CD (destinationServiceAccounts)
// do, and as a person of the team's group. kubectl renders with its kustomize and applies
// server-side, first with --dry-run=server. The tenant repository must apply with the team's
// own rights only, and nothing more may get through: a Team, another namespace, a personal key.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { helm, templateArgs } from '../harness/helm.ts';
import { EXAMPLES_DIR, kustomizeYaml, objectsOf } from '../harness/kustomize.ts';
import { startTestBed, type TestBed } from '../harness/test-bed.ts';
import { VIRTUAL_KEY_USER_POLICY } from '../../crds/admission/virtual-key-user.ts';
import { rbacInEffect } from './support/tenant-rbac.ts';

const GITOPS = join(EXAMPLES_DIR, 'gitops');
const NAMESPACE = 'ml-research';
const SERVICE_ACCOUNT = `system:serviceaccount:${NAMESPACE}:llm-tenancy-gitops`;
/** The tenant identity: what Flux and Argo CD impersonate for the team's repository. */
const AS_GITOPS = [`--as=${SERVICE_ACCOUNT}`];
/** A person of the team, as the example's group binding sees them. */
const AS_MEMBER = ['--as=dana', '--as-group=ml-researchers'];
const FIELD_MANAGER = '--field-manager=gitops-test';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the GitOps repositories applied with their own rights', () => {
  let bed: TestBed;
  let kc: KubeConfig;
  let platform: string;
  let tenant: string;

  /** kubectl against the bed, `input` on stdin; resolves with the exit code, never throws. */
  const kubectl = (args: string[], input?: string): Promise<Result> =>
    new Promise((resolve) => {
      const child = execFile(
        bed.kubectlPath!,
        ['--kubeconfig', bed.kubeconfigPath!, ...args],
        (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? 1) : 0, stdout: String(stdout), stderr }),
      );
      child.stdin?.end(input ?? '');
    });
  const apply = (yaml: string, ...args: string[]) =>
    kubectl(['apply', '--server-side', FIELD_MANAGER, '-f', '-', ...args], yaml);
  const custom = () => kc.makeApiClient(CustomObjectsApi);
  const team = (name: string) =>
    custom()
      .getClusterCustomObject({
        group: 'llmtenancy.dev',
        version: 'v1alpha1',
        plural: 'teams',
        name,
      })
      .then(
        (o) => o as { spec: { limits: Record<string, unknown> } },
        () => undefined,
      );
  const virtualKey = (namespace: string, name: string) =>
    custom()
      .getNamespacedCustomObject({
        group: 'llmtenancy.dev',
        version: 'v1alpha1',
        plural: 'virtualkeys',
        namespace,
        name,
      })
      .then(
        (o) => o as { spec: { limits: Record<string, unknown> } },
        () => undefined,
      );

  beforeAll(async () => {
    bed = await startTestBed({ redis: false, oidc: false });
    kc = bed.kubeConfig!;
    platform = await kustomizeYaml(join(GITOPS, 'platform/overlays/prod'), bed.kubectlPath);
    tenant = await kustomizeYaml(join(GITOPS, 'tenant/overlays/prod'), bed.kubectlPath);
    // The tenant ClusterRoles as the platform's chart values install them (tenantRoles.enabled).
    const roles = await helm([
      ...templateArgs({}),
      '-f',
      join(GITOPS, 'platform/chart-values.yaml'),
      '--show-only',
      'templates/tenant-roles.yaml',
    ]);
    expect(roles.code, roles.stderr).toBe(0);
    const installed = await apply(roles.stdout);
    expect(installed.code, installed.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await bed?.stop();
  });

  it('the platform layer applies as an admin: its Namespace first, a dry run, then for real', async () => {
    // As Flux's staged apply (Namespaces and CRDs first) and Argo CD's kind order do: a dry run
    // of objects in a namespace that does not exist yet fails with NotFound.
    const objects = objectsOf(platform);
    const namespaces = objects.filter((o) => o.kind === 'Namespace');
    expect(namespaces.map((o) => o.metadata?.name)).toEqual([NAMESPACE]);
    const created = await apply(namespaces.map((o) => stringify(o)).join('---\n'));
    expect(created.code, created.stderr).toBe(0);

    const dryRun = await apply(platform, '--dry-run=server');
    expect(dryRun.stderr).toBe('');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(
      'team.llmtenancy.dev/ml-research serverside-applied (server dry run)',
    );
    expect(await team('ml-research')).toBeUndefined();

    const applied = await apply(platform);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    // The prod overlay's budget, not the base's.
    expect((await team('ml-research'))?.spec.limits).toMatchObject({
      maxBudget: '5000',
      rpm: 1200,
    });
  });

  it("the tenant layer applies as the team's GitOps ServiceAccount, with nothing but the team's rights", async () => {
    await rbacInEffect(kc, { user: SERVICE_ACCOUNT }, NAMESPACE);
    const dryRun = await apply(tenant, '--dry-run=server', ...AS_GITOPS);
    expect(dryRun.stderr).toBe('');
    expect(dryRun.code).toBe(0);
    expect(await virtualKey(NAMESPACE, 'chatbot')).toBeUndefined();

    const applied = await apply(tenant, ...AS_GITOPS);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('virtualkey.llmtenancy.dev/chatbot serverside-applied');
    expect((await virtualKey(NAMESPACE, 'chatbot'))?.spec.limits).toMatchObject({
      maxBudget: '200',
      rpm: 300,
    });
    // Applying again changes nothing, and pruning (Flux prune, Argo CD prune) is allowed.
    const again = await apply(tenant, ...AS_GITOPS);
    expect(again.code, again.stderr).toBe(0);
    const prune = await kubectl([
      'delete',
      'virtualkey',
      'chatbot',
      '-n',
      NAMESPACE,
      '--dry-run=server',
      ...AS_GITOPS,
    ]);
    expect(prune.code, prune.stderr).toBe(0);
  });

  it("the tenant layer applies as a person of the team's group too", async () => {
    await rbacInEffect(kc, { user: 'dana', groups: ['ml-researchers'] }, NAMESPACE);
    const dryRun = await apply(tenant, '--dry-run=server', ...AS_MEMBER);
    expect(dryRun.stderr).toBe('');
    expect(dryRun.code).toBe(0);
  });

  it('a tenant layer with a Team in it is refused for the tenant, and the Team is not made', async () => {
    const intruder = {
      apiVersion: 'llmtenancy.dev/v1alpha1',
      kind: 'Team',
      metadata: { name: 'ml-research-approved' },
      spec: { namespaces: [NAMESPACE], models: ['granite-3-8b', 'llama-3-8b'] },
    };
    const withTeam = `${tenant}---\n${stringify(intruder)}`;
    // The Team itself is valid: an admin's dry run accepts it, so the refusal is RBAC's.
    const asAdmin = await apply(withTeam, '--dry-run=server');
    expect(asAdmin.code, asAdmin.stderr).toBe(0);

    for (const as of [AS_GITOPS, AS_MEMBER]) {
      const refused = await apply(withTeam, ...as);
      expect(refused.code, as.join(' ')).not.toBe(0);
      expect(refused.stderr).toMatch(
        /teams\.llmtenancy\.dev "ml-research-approved" is forbidden: User ".+" cannot (patch|get) resource "teams"/,
      );
      expect(await team('ml-research-approved')).toBeUndefined();
    }
  });

  it("the tenant layer aimed at another team's namespace is refused", async () => {
    const other = await kubectl(['create', 'namespace', 'other-team']);
    expect(other.code, other.stderr).toBe(0);
    const elsewhere = objectsOf(tenant).map((o) => ({
      ...o,
      metadata: { ...o.metadata, namespace: 'other-team' },
    }));
    const refused = await apply(elsewhere.map((o) => stringify(o)).join('---\n'), ...AS_GITOPS);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /is forbidden: User ".+" cannot (patch|get) resource "virtualkeys"/,
    );
    expect(await virtualKey('other-team', 'chatbot')).toBeUndefined();
  });

  it('a personal key in the tenant repository is refused by the admission policy: the GitOps identity is nobody', async () => {
    const personal = objectsOf(tenant)
      .filter((o) => o.kind === 'VirtualKey')
      .map((o) => ({
        ...o,
        metadata: { ...o.metadata, name: 'alices-key' },
        spec: { ...(o as { spec: object }).spec, user: 'alice', secret: { name: 'alices-key' } },
      }));
    const refused = await apply(stringify(personal[0]), ...AS_GITOPS);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(VIRTUAL_KEY_USER_POLICY);
    expect(refused.stderr).toContain('spec.user may name only yourself');
    expect(await virtualKey(NAMESPACE, 'alices-key')).toBeUndefined();
  });
});
