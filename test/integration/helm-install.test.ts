// The chart against a real API server of its own (a fresh kube-apiserver + etcd: the shared
// one already has the CRDs, not installed by Helm): `helm install` creates what it renders,
// `helm upgrade` changes it, `helm uninstall` removes it but the CRDs and the admission policy.
// Then the operator runs as the chart's identity: a token of the chart's ServiceAccount from
// the TokenRequest API, bound by the RBAC the chart installed, with the environment and files
// the rendered Deployment gives it, against the LiteLLM test server and the test Redis. The
// example key flow must work with nothing more: the RBAC is enough.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.ts';
import { CHART_DIR, helm, renderChart, type RenderedObject } from '../harness/helm.ts';
import { quickStartObjects } from '../harness/kustomize.ts';
import { startProcess, type ManagedProcess } from '../harness/process.ts';
import { OPENSHIFT_GROUP_CRD } from '../harness/test-bed.ts';
import { start as startLiteLLM, type LiteLLMTestServer } from '../litellm-server/server.ts';

const NAMESPACE = 'llm-tenancy';
const RELEASE = 'llm';
const OPERATOR = `${RELEASE}-llm-tenancy-operator`;
const root = fileURLToPath(new URL('../..', import.meta.url));
const poll = { timeout: 60_000, interval: 250 };

describe('the chart in a real API server', () => {
  let plane: ControlPlane;
  let kc: KubeConfig;
  let kubeconfigPath: string;
  let litellm: LiteLLMTestServer;
  let values: Record<string, unknown>;
  const prefix = `helm-${randomBytes(3).toString('hex')}:`;

  const helmIn = (args: string[]) =>
    helm([...args, '--kubeconfig', kubeconfigPath, '--namespace', NAMESPACE]);
  const setArgs = (v: Record<string, unknown>) =>
    Object.entries(v).flatMap(([k, value]) => ['--set-json', `${k}=${JSON.stringify(value)}`]);

  beforeAll(async () => {
    plane = await startControlPlane();
    kc = plane.kubeConfig;
    const dir = await mkdtemp(join(tmpdir(), 'helm-install-'));
    kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kc.exportConfig(), { mode: 0o600 });
    litellm = await startLiteLLM({ masterKey: 'sk-master-helm-test', models: ['granite-3-8b'] });
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'litellm-master-key' },
        stringData: { 'master-key': litellm.masterKey },
      },
    });
    values = {
      'litellm.url': litellm.url,
      'litellm.masterKeySecret.name': 'litellm-master-key',
      'redis.url': inject('redisUrl'),
      routingPrefix: prefix,
      publicUrl: 'https://llm.example.com/v1',
    };
  }, 180_000);

  afterAll(async () => {
    await litellm?.stop();
    await plane?.stop();
  });

  it('installs what it renders, upgrades it, and keeps the CRDs on uninstall', async () => {
    const installed = await helmIn(['install', RELEASE, CHART_DIR, ...setArgs(values)]);
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);

    const rendered = await renderChart(values, { release: RELEASE, namespace: NAMESPACE });
    const objects = KubernetesObjectApi.makeApiClient(kc);
    // Hooks (the `helm test` Pod) are made by their own commands, not by install.
    for (const o of rendered.filter((r) => !r.metadata.annotations?.['helm.sh/hook'])) {
      const found = await objects.read({
        apiVersion: o.apiVersion,
        kind: o.kind,
        metadata: { name: o.metadata.name, namespace: namespaceOf(o) },
      });
      expect(
        found.metadata?.labels?.['app.kubernetes.io/managed-by'],
        `${o.kind} ${o.metadata.name}`,
      ).toBe('Helm');
    }
    const crds = kc.makeApiClient(ApiextensionsV1Api);
    await expect
      .poll(async () => {
        const crd = await crds.readCustomResourceDefinition({ name: 'virtualkeys.llmtenancy.dev' });
        return crd.status?.conditions?.find((c) => c.type === 'Established')?.status;
      }, poll)
      .toBe('True');

    const upgraded = await helmIn([
      'upgrade',
      RELEASE,
      CHART_DIR,
      ...setArgs({ ...values, 'operator.settings': { RESYNC_INTERVAL: '10m' } }),
    ]);
    expect(upgraded.code).toBe(0);
    const apps = kc.makeApiClient(AppsV1Api);
    const operator = await apps.readNamespacedDeployment({ name: OPERATOR, namespace: NAMESPACE });
    expect(operator.spec?.template.spec?.containers[0]?.env).toContainEqual({
      name: 'RESYNC_INTERVAL',
      value: '10m',
    });

    const uninstalled = await helmIn(['uninstall', RELEASE]);
    expect(uninstalled.code).toBe(0);
    expect(uninstalled.stdout).toContain('These resources were kept due to the resource policy');
    await expect
      .poll(
        () =>
          apps.readNamespacedDeployment({ name: OPERATOR, namespace: NAMESPACE }).then(
            () => 'present',
            (err: { code?: number }) => (err.code === 404 ? 'gone' : `error ${err.code}`),
          ),
        poll,
      )
      .toBe('gone');
    const kept = await crds.listCustomResourceDefinition();
    expect(kept.items.map((c) => c.metadata?.name)).toEqual(
      expect.arrayContaining([
        'modelsubscriptions.llmtenancy.dev',
        'teams.llmtenancy.dev',
        'users.llmtenancy.dev',
        'virtualkeys.llmtenancy.dev',
      ]),
    );
    const policy = await objects.read({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: 'llmtenancy.dev-virtualkey-user' },
    });
    expect(policy.metadata?.name).toBe('llmtenancy.dev-virtualkey-user');

    // Installing again takes the kept CRDs back (they still carry the release's annotations).
    const again = await helmIn(['install', RELEASE, CHART_DIR, ...setArgs(values)]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
  }, 180_000);

  it('runs the operator as the chart’s own ServiceAccount: the example key becomes usable', async () => {
    // The Group API, as on OpenShift, so group sync runs under the chart's RBAC too.
    await applyFile(kc, OPENSHIFT_GROUP_CRD);
    const token = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      namespace: NAMESPACE,
      name: OPERATOR,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    if (!token.status?.token) throw new Error('the TokenRequest API returned no token');
    const asOperator = kubeconfigWithToken(kc, token.status.token);
    const dir = await mkdtemp(join(tmpdir(), 'operator-as-chart-'));
    await writeFile(join(dir, 'kubeconfig'), asOperator.exportConfig(), { mode: 0o600 });
    await writeFile(join(dir, 'master-key'), litellm.masterKey, { mode: 0o600 });

    // The operator's environment, exactly as the rendered Deployment sets it; the pod's
    // downward API and mounts become values and files here.
    const rendered = await renderChart(values, { release: RELEASE, namespace: NAMESPACE });
    const deployment = rendered.find(
      (o) => o.kind === 'Deployment' && o.metadata.name === OPERATOR,
    )!;
    const container = (
      deployment.spec as {
        template: {
          spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[] };
        };
      }
    ).template.spec.containers[0]!;
    const env: Record<string, string> = {};
    for (const e of container.env) if (e.value !== undefined) env[e.name] = e.value;
    expect(env.LITELLM_MASTER_KEY_FILE).toBe('/var/run/llm-tenancy/litellm/master-key');
    env.LITELLM_MASTER_KEY_FILE = join(dir, 'master-key');
    env.POD_NAME = 'llm-operator-test';
    env.POD_NAMESPACE = NAMESPACE;
    env.HEALTH_PORT = '0';
    env.KUBECONFIG = join(dir, 'kubeconfig');
    let operator: ManagedProcess | undefined;
    try {
      operator = await startProcess({
        name: 'operator as the chart',
        command: 'env',
        args: [
          '-i',
          `PATH=${process.env.PATH}`,
          ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
          process.execPath,
          // Node's flags as the chart gives them, then the script, from this checkout.
          ...container.args.map((arg) => (arg.startsWith('-') ? arg : join(root, arg))),
        ],
        logFile: join(dir, 'operator.log'),
      });
      await applyExamples(kc, plane.binaries.kubectl);
      const custom = kc.makeApiClient(CustomObjectsApi);
      await expect
        .poll(
          async () => {
            const key = (await custom.getNamespacedCustomObject({
              group: 'llmtenancy.dev',
              version: 'v1alpha1',
              namespace: 'ml-research',
              plural: 'virtualkeys',
              name: 'chatbot',
            })) as {
              status?: { conditions?: { type: string; status: string; reason?: string }[] };
            };
            const ready = key.status?.conditions?.find((c) => c.type === 'Ready');
            return `${ready?.status} ${ready?.reason}`;
          },
          { timeout: 90_000, interval: 500 },
        )
        .toMatch(/^True /);
      const secret = await kc
        .makeApiClient(CoreV1Api)
        .readNamespacedSecret({ namespace: 'ml-research', name: 'chatbot-openai' });
      expect(Object.keys(secret.data ?? {}).sort()).toEqual(['OPENAI_API_KEY', 'OPENAI_BASE_URL']);
      expect(Buffer.from(secret.data!.OPENAI_BASE_URL!, 'base64').toString()).toBe(
        'https://llm.example.com/v1',
      );
      // Nothing was refused along the way: the RBAC is enough.
      const log = await readFile(join(dir, 'operator.log'), 'utf8');
      expect(log).not.toMatch(/\b403\b|forbidden/i);
    } finally {
      await operator?.stop(15_000);
    }

    // And no broader: what the chart's operator may not do.
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const role = await rbac.readClusterRole({ name: OPERATOR });
    const core = asOperator.makeApiClient(CoreV1Api);
    await expect(core.readNamespace({ name: 'default' })).rejects.toMatchObject({ code: 403 });
    await expect(core.listNamespacedPod({ namespace: NAMESPACE })).rejects.toMatchObject({
      code: 403,
    });
    expect(role.rules?.length).toBeGreaterThan(0);
  }, 240_000);
});

function namespaceOf(o: RenderedObject): string | undefined {
  const clusterScoped = [
    'CustomResourceDefinition',
    'ClusterRole',
    'ClusterRoleBinding',
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicyBinding',
  ];
  return clusterScoped.includes(o.kind) ? undefined : (o.metadata.namespace ?? NAMESPACE);
}

function kubeconfigWithToken(admin: KubeConfig, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'operator', token }],
    contexts: [{ name: 'operator', cluster: cluster.name, user: 'operator' }],
    currentContext: 'operator',
  });
  return kc;
}

async function applyFile(kc: KubeConfig, file: string): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
    const object = doc.toJS() as KubernetesObject | null;
    if (!object?.kind) continue;
    await api.patch(object, undefined, undefined, 'helm-test', true, PatchStrategy.ServerSideApply);
  }
}

/** The README's quick start (`-k examples/`, then examples/tenant-rbac.yaml), server-side. */
async function applyExamples(kc: KubeConfig, kubectl: string | undefined): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const object of await quickStartObjects(kubectl)) {
    await api.patch(object, undefined, undefined, 'helm-test', true, PatchStrategy.ServerSideApply);
  }
}
