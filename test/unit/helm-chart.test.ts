// The Helm chart rendered by the real helm (`helm lint`, `helm template`) against a table of
// value sets, each checked for what the chart promises: restricted-v2 pods, the master key as
// a file, least-privilege RBAC, the CRDs kept, the exposure and policies each toggle adds; and
// bad values refused at install with a message. Installing into a real API server is
// test/integration/helm-install.test.ts.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../gateway/src/config.ts';
import { parseSigninConfig } from '../../gateway/src/signin/signin-config.ts';
import { createGatewayMetrics } from '../../gateway/src/observability/gateway-metrics.ts';
import { parseConfig } from '../../operator/src/config.ts';
import { spendSyncMetrics } from '../../operator/src/controllers/spend/spend-metrics.ts';
import { orphanMetrics } from '../../operator/src/controllers/orphans/orphan-metrics.ts';
import { clientMetrics } from '../../operator/src/litellm/metrics.ts';
import { routingMetrics } from '../../operator/src/routing/routing-metrics.ts';
import { runtimeMetrics } from '../../operator/src/runtime/metrics.ts';
import { readmeWithReference } from '../../charts/reference.ts';
import { AuditWebhook } from '../../contracts/audit/audit-webhook.ts';
import {
  CHART_DIR,
  helm,
  KUBE_VERSION,
  renderChart as renderOnce,
  templateArgs,
  type RenderedObject,
} from '../harness/helm.ts';

const REQUIRED = {
  'litellm.url': 'http://litellm.litellm.svc:4000',
  'litellm.masterKeySecret.name': 'litellm-master-key',
  'redis.url': 'redis://redis.llm-tenancy.svc:6379',
};

const VALUE_SETS: Record<string, Record<string, unknown>> = {
  defaults: REQUIRED,
  openshift: {
    ...REQUIRED,
    'gateway.route.enabled': true,
    'gateway.route.host': 'llm.apps.example.com',
    'tenantRoles.enabled': true,
  },
  'plain Kubernetes': {
    ...REQUIRED,
    'gateway.ingress.enabled': true,
    'gateway.ingress.host': 'llm.example.com',
    'gateway.ingress.className': 'nginx',
    'gateway.ingress.tlsSecretName': 'llm-tls',
    'networkPolicy.metricsNamespaceSelector': { matchLabels: { name: 'monitoring' } },
  },
  'external Redis from a Secret': {
    'litellm.url': REQUIRED['litellm.url'],
    'litellm.masterKeySecret.name': 'litellm-master-key',
    'redis.existingSecret.name': 'redis-credentials',
  },
  'every toggle on': {
    'litellm.url': REQUIRED['litellm.url'],
    'litellm.masterKeySecret.name': 'litellm-master-key',
    'redis.inChart.enabled': true,
    'gateway.route.enabled': true,
    'gateway.route.host': 'llm.apps.example.com',
    'gateway.ingress.enabled': true,
    'gateway.ingress.host': 'llm.example.com',
    'networkPolicy.litellm.enabled': true,
    'networkPolicy.litellm.namespace': 'litellm',
    'networkPolicy.litellm.podSelector': { matchLabels: { app: 'litellm' } },
    'metrics.serviceMonitor.enabled': true,
    'metrics.prometheusRule.enabled': true,
    'metrics.dashboard.enabled': true,
    'tenantRoles.enabled': true,
    'operator.settings': { RESYNC_INTERVAL: '10m', ORPHAN_COLLECTION: 'on', LOG_LEVEL: 'debug' },
    'gateway.settings': { BODY_LIMIT: '20Mi', TRUSTED_PROXIES: '10.128.0.0/14' },
  },
};

/** One helm template per value set: the tests below only read what it rendered. */
const rendered = new Map<string, Promise<RenderedObject[]>>();
function renderChart(values: Record<string, unknown>): Promise<RenderedObject[]> {
  const key = JSON.stringify(values);
  if (!rendered.has(key)) rendered.set(key, renderOnce(values));
  return rendered.get(key)!;
}

const kindOf = (objects: RenderedObject[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: RenderedObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

interface Container {
  name: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  volumeMounts?: { name: string; mountPath: string }[];
  args?: string[];
}
interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string } }[];
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
}

function podSpecs(objects: RenderedObject[]): { owner: string; spec: PodSpec }[] {
  const specs: { owner: string; spec: PodSpec }[] = [];
  for (const o of objects) {
    if (o.kind === 'Deployment') {
      const spec = (o.spec as { template: { spec: PodSpec } }).template.spec;
      specs.push({ owner: `Deployment ${o.metadata.name}`, spec });
    } else if (o.kind === 'Pod') {
      specs.push({ owner: `Pod ${o.metadata.name}`, spec: o.spec as PodSpec });
    }
  }
  return specs;
}

function envOf(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) env[e.name] = e.value ?? '(from a Secret)';
  return env;
}

/** Every metric name the operator and the gateway serve (a histogram's with its series). */
async function exportedMetricNames(): Promise<Set<string>> {
  const operator = new Registry();
  runtimeMetrics(operator);
  clientMetrics(operator);
  routingMetrics(operator);
  spendSyncMetrics(operator);
  orphanMetrics(operator, ['team', 'user', 'key']);
  // Both programs, when an audit webhook is configured.
  new AuditWebhook({ post: async () => {}, log: { warn() {}, error() {} }, registry: operator });
  const gateway = createGatewayMetrics({
    defaultMetrics: false,
    cacheSize: () => ({ found: 0, absent: 0 }),
  });
  const names = new Set<string>();
  for (const registry of [operator, gateway.registry])
    for (const metric of await registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (String(metric.type) === 'histogram')
        for (const series of ['_bucket', '_sum', '_count']) names.add(metric.name + series);
    }
  return names;
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'and',
  'or',
  'unless',
  'on',
  'ignoring',
  'bool',
  'offset',
]);

/**
 * The metric names a PromQL expression reads: what is left once strings, label matchers,
 * ranges, grouping clauses, function calls, keywords and numbers are taken out.
 */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(/g, '(');
  return (bare.match(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g) ?? []).filter((w) => !PROMQL_KEYWORDS.has(w));
}

describe('the Helm chart', () => {
  it('passes helm lint', async () => {
    const args = Object.entries(REQUIRED).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
    const result = await helm([
      'lint',
      CHART_DIR,
      '--strict',
      '--kube-version',
      KUBE_VERSION,
      ...args,
    ]);
    expect(result.stderr + result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.code).toBe(0);
  });

  describe.each(Object.entries(VALUE_SETS))('rendered with %s', (_name, values) => {
    it('runs every pod as restricted-v2 asks, with resources set', async () => {
      const objects = await renderChart(values);
      const pods = podSpecs(objects);
      expect(pods.length).toBeGreaterThanOrEqual(2);
      for (const { owner, spec } of pods) {
        expect(spec.securityContext, owner).toMatchObject({
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(spec.securityContext?.runAsUser, owner).toBeUndefined();
        for (const c of spec.containers) {
          expect(c.securityContext, `${owner} ${c.name}`).toEqual({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(c.securityContext?.runAsUser, owner).toBeUndefined();
          expect(c.resources?.requests?.cpu, `${owner} ${c.name} cpu request`).toBeDefined();
          expect(c.resources?.requests?.memory, `${owner} ${c.name}`).toBeDefined();
          expect(c.resources?.limits?.memory, `${owner} ${c.name} memory limit`).toBeDefined();
        }
      }
    });

    it('gives the operator the master key as a mounted file and the settings by README name', async () => {
      const objects = await renderChart(values);
      const operator = named(objects, 'Deployment', 'llm-llm-tenancy-operator')!;
      const spec = (operator.spec as { replicas: number; template: { spec: PodSpec } }).template
        .spec;
      expect((operator.spec as { replicas: number }).replicas).toBe(2);
      const container = spec.containers[0]!;
      const env = envOf(container);
      expect(env.LITELLM_MASTER_KEY).toBeUndefined();
      expect(env.LITELLM_MASTER_KEY_FILE).toBe('/var/run/llm-tenancy/litellm/master-key');
      expect(env.LEADER_ELECTION).toBe('true');
      // The image's entrypoint is node: V8 sized for memory, then the operator's script.
      expect(container.args).toEqual(['--optimize-for-size', 'operator/src/main.ts']);
      expect(container.volumeMounts).toContainEqual(
        expect.objectContaining({
          name: 'litellm-master-key',
          mountPath: '/var/run/llm-tenancy/litellm',
        }),
      );
      expect(spec.volumes).toContainEqual(
        expect.objectContaining({
          secret: expect.objectContaining({ secretName: 'litellm-master-key' }),
        }),
      );
      expect(container.readinessProbe).toBeDefined();
      expect(container.livenessProbe).toBeDefined();
      expect(named(objects, 'PodDisruptionBudget', 'llm-llm-tenancy-operator')).toBeDefined();
      // No Secret's content is ever rendered into the manifests.
      expect(kindOf(objects, 'Secret')).toEqual([]);

      // The operator accepts the environment the chart gives it.
      const dir = await mkdtemp(join(tmpdir(), 'chart-env-'));
      await writeFile(join(dir, 'master-key'), 'sk-test');
      const parsed = parseConfig(
        {
          ...env,
          LITELLM_MASTER_KEY_FILE: join(dir, 'master-key'),
          POD_NAME: 'llm-operator-0',
          POD_NAMESPACE: 'llm-tenancy',
          ...(env.REDIS_URL === '(from a Secret)' ? { REDIS_URL: 'redis://redis:6379' } : {}),
        },
        { hostname: 'llm-operator-0', identitySuffix: 'test' },
      );
      expect(parsed.leaderElection).toBeTruthy();
    });

    it('runs the gateway with no API access, scaled, disrupted gently, and accepted by its config', async () => {
      const objects = await renderChart(values);
      const gateway = named(objects, 'Deployment', 'llm-llm-tenancy-gateway')!;
      const spec = (gateway.spec as { template: { spec: PodSpec } }).template.spec;
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(named(objects, 'HorizontalPodAutoscaler', 'llm-llm-tenancy-gateway')).toBeDefined();
      expect(named(objects, 'PodDisruptionBudget', 'llm-llm-tenancy-gateway')).toBeDefined();
      expect(named(objects, 'Service', 'llm-llm-tenancy-gateway')).toBeDefined();
      const env = envOf(spec.containers[0]!);
      const config = parseGatewayConfig({
        ...env,
        ...(env.REDIS_URL === '(from a Secret)' ? { REDIS_URL: 'redis://redis:6379' } : {}),
      });
      expect(config.port).toBe(8080);
    });

    it('grants the operator only the verbs it uses, and the gateway nothing', async () => {
      const objects = await renderChart(values);
      const role = named(objects, 'ClusterRole', 'llm-llm-tenancy-operator')!;
      const rules = role.rules as {
        apiGroups: string[];
        resources: string[];
        verbs: string[];
        resourceNames?: string[];
      }[];
      for (const rule of rules) {
        expect(rule.verbs).not.toContain('*');
        expect(rule.resources).not.toContain('*');
        expect(rule.apiGroups).not.toContain('*');
      }
      const namespaces = rules.find((r) => r.resources.includes('namespaces'))!;
      expect(namespaces).toEqual({
        apiGroups: [''],
        resources: ['namespaces'],
        resourceNames: ['kube-system'],
        verbs: ['get'],
      });
      // Status is the operator's to write; tenants' roles never name it.
      expect(rules.some((r) => r.resources.includes('virtualkeys/status'))).toBe(true);
      const bindings = [
        ...kindOf(objects, 'ClusterRoleBinding'),
        ...kindOf(objects, 'RoleBinding'),
      ];
      const subjects = bindings.flatMap((b) => b.subjects as { name: string }[]);
      expect(subjects.map((s) => s.name)).not.toContain('llm-llm-tenancy-gateway');
    });

    it('installs the CRDs and the admission policy as templates kept on uninstall', async () => {
      const objects = await renderChart(values);
      const crds = kindOf(objects, 'CustomResourceDefinition');
      expect(crds.map((c) => c.metadata.name).sort()).toEqual([
        'modelsubscriptions.llmtenancy.dev',
        'teams.llmtenancy.dev',
        'users.llmtenancy.dev',
        'virtualkeys.llmtenancy.dev',
      ]);
      for (const o of [
        ...crds,
        ...kindOf(objects, 'ValidatingAdmissionPolicy'),
        ...kindOf(objects, 'ValidatingAdmissionPolicyBinding'),
      ]) {
        expect(o.metadata.annotations?.['helm.sh/resource-policy'], o.metadata.name).toBe('keep');
      }
      expect(kindOf(objects, 'ValidatingAdmissionPolicyBinding')).toHaveLength(1);
    });
  });

  it('renders the CRDs exactly as generated in crds/', async () => {
    const objects = await renderChart(REQUIRED);
    const teams = named(objects, 'CustomResourceDefinition', 'teams.llmtenancy.dev')!;
    const { parse } = await import('yaml');
    const generated = parse(
      await readFile(new URL('../../crds/llmtenancy.dev_teams.yaml', import.meta.url), 'utf8'),
    ) as RenderedObject;
    expect(teams.spec).toEqual(generated.spec);
  });

  it('exposes the gateway by Route on OpenShift, by Ingress elsewhere, and only its /v1', async () => {
    const openshift = await renderChart(VALUE_SETS.openshift!);
    const route = named(openshift, 'Route', 'llm-llm-tenancy-gateway')!;
    expect(route.spec).toMatchObject({
      host: 'llm.apps.example.com',
      port: { targetPort: 'http' },
      tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' },
    });
    expect(kindOf(openshift, 'Ingress')).toEqual([]);
    const operatorEnv = envOf(
      (
        named(openshift, 'Deployment', 'llm-llm-tenancy-operator')!.spec as {
          template: { spec: PodSpec };
        }
      ).template.spec.containers[0]!,
    );
    expect(operatorEnv.GATEWAY_URL).toBe('https://llm.apps.example.com/v1');

    const plain = await renderChart(VALUE_SETS['plain Kubernetes']!);
    expect(kindOf(plain, 'Route')).toEqual([]);
    const ingress = named(plain, 'Ingress', 'llm-llm-tenancy-gateway')!;
    expect(ingress.spec).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['llm.example.com'], secretName: 'llm-tls' }],
      rules: [{ host: 'llm.example.com', http: { paths: [{ path: '/v1', pathType: 'Prefix' }] } }],
    });
  });

  it('lets only the operator and the gateway reach the in-chart Redis and, when asked, LiteLLM', async () => {
    const objects = await renderChart(VALUE_SETS['every toggle on']!);
    const redis = named(objects, 'NetworkPolicy', 'llm-llm-tenancy-redis')!;
    const from = (
      redis.spec as {
        ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[] }[];
      }
    ).ingress[0]!.from.map((f) => f.podSelector.matchLabels['app.kubernetes.io/component']);
    expect(from.sort()).toEqual(['gateway', 'operator']);
    const litellm = named(objects, 'NetworkPolicy', 'llm-llm-tenancy-litellm-clients')!;
    expect(litellm.metadata.namespace).toBe('litellm');
    expect(litellm.spec).toMatchObject({ podSelector: { matchLabels: { app: 'litellm' } } });
    const clients = (
      litellm.spec as {
        ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[] }[];
      }
    ).ingress[0]!.from.map((f) => f.podSelector.matchLabels['app.kubernetes.io/component']);
    expect(clients).toEqual(['operator', 'gateway']);
    expect(kindOf(objects, 'ServiceMonitor')).toHaveLength(1);
    expect(kindOf(objects, 'PrometheusRule')).toHaveLength(1);
    const dashboard = named(objects, 'ConfigMap', 'llm-llm-tenancy-dashboard')!;
    expect(() =>
      JSON.parse((dashboard.data as Record<string, string>)['llm-tenancy.json']!),
    ).not.toThrow();
    expect(kindOf(objects, 'ClusterRole').map((r) => r.metadata.name)).toEqual(
      expect.arrayContaining(['llm-tenancy-edit', 'llm-tenancy-view', 'llm-tenant-view']),
    );
  });

  it('alerts on budgets, the spend sync and LiteLLM, reading only metrics the programs export', async () => {
    const objects = await renderChart({
      ...REQUIRED,
      'metrics.prometheusRule.enabled': true,
      'metrics.prometheusRule.budgetWarningRatio': 0.8,
    });
    const [rule] = kindOf(objects, 'PrometheusRule');
    const rules = (
      rule!.spec as {
        groups: { rules: { alert: string; expr: string; labels: Record<string, string> }[] }[];
      }
    ).groups.flatMap((g) => g.rules);
    const table = Object.fromEntries(rules.map((r) => [r.alert, r.labels.severity]));
    expect(table).toEqual({
      LlmTenancyReconcileErrors: 'warning',
      LlmTenancyLiteLLMUnreachable: 'critical',
      LlmTenancyGatewayErrors: 'warning',
      LlmTenancyRedisDown: 'critical',
      LlmTenancyRoutingWriteErrors: 'warning',
      LlmTenancyBudgetNearlySpent: 'warning',
      LlmTenancyBudgetSpent: 'critical',
      LlmTenancySpendSyncFailing: 'warning',
      LlmTenancyAuditWebhookDropping: 'warning',
    });
    const expr = (alert: string) => rules.find((r) => r.alert === alert)!.expr.replace(/\s+/g, ' ');
    // Each budget alert is one per object: by kind, namespace (the object's) and name.
    for (const alert of ['LlmTenancyBudgetNearlySpent', 'LlmTenancyBudgetSpent'])
      expect(expr(alert)).toMatch(
        /^max by \(kind, namespace, name\) \( label_replace\(llmtenancy_budget_used_ratio\{namespace="llm-tenancy"\}, "namespace", "\$1", "exported_namespace", "\(\.\*\)"\) \)/,
      );
    expect(expr('LlmTenancyBudgetNearlySpent')).toMatch(/\) >= 0\.8 < 1 $/);
    expect(expr('LlmTenancyBudgetSpent')).toMatch(/\) >= 1 $/);
    expect(expr('LlmTenancySpendSyncFailing')).toMatch(
      /llmtenancy_spend_sync_last_success_timestamp_seconds.* > 900$/,
    );

    const exported = await exportedMetricNames();
    const read = rules.map((r) => [r.alert, metricsIn(r.expr)] as const);
    for (const [alert, metrics] of read) {
      expect(metrics.length, alert).toBeGreaterThan(0);
      for (const metric of metrics) expect(exported, `${alert} reads ${metric}`).toContain(metric);
    }
    // The check itself sees a name no program exports.
    expect(metricsIn('sum by (ns) (rate(llmtenancy_budget_used{a="b"}[5m])) > 0')).toEqual([
      'llmtenancy_budget_used',
    ]);
  });

  it('keeps nothing on uninstall with crds.keep=false, and no CRDs with crds.install=false', async () => {
    const notKept = await renderChart({ ...REQUIRED, 'crds.keep': false });
    for (const crd of kindOf(notKept, 'CustomResourceDefinition')) {
      expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBeUndefined();
    }
    const none = await renderChart({ ...REQUIRED, 'crds.install': false });
    expect(kindOf(none, 'CustomResourceDefinition')).toEqual([]);
  });

  it('names admissionPolicy.adminGroups in the admission policy', async () => {
    const objects = await renderChart({
      ...REQUIRED,
      'admissionPolicy.adminGroups': ['platform-admins', 'sre'],
    });
    const policy = kindOf(objects, 'ValidatingAdmissionPolicy')[0]!;
    const variables = (policy.spec as { variables: { name: string; expression: string }[] })
      .variables;
    expect(variables.find((v) => v.name === 'adminGroups')?.expression).toBe(
      "['platform-admins', 'sre']",
    );
  });

  it.each([
    [{ 'operator.settings': { RESYNC_INTERVALL: '5m' } }, 'RESYNC_INTERVALL'],
    [{ 'operator.settings': { RESYNC_INTERVAL: 'five minutes' } }, 'RESYNC_INTERVAL'],
    [{ 'gateway.settings': { LIMITS_WHEN_REDIS_DOWN: 'maybe' } }, 'LIMITS_WHEN_REDIS_DOWN'],
    [{ 'gateway.route.termination': 'passthrough' }, 'termination'],
    [{ 'operator.replicas': 0 }, 'replicas'],
    [{ 'litellm.url': 'litellm:4000' }, 'url'],
    [{ 'gatway.replicas': 3 }, 'gatway'],
  ])('refuses bad values at install with a message: %j', async (bad, mentioned) => {
    const result = await helm(templateArgs({ ...REQUIRED, ...bad }));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('values don');
    expect(result.stderr).toContain(mentioned);
  });

  it.each([
    [{ 'litellm.url': '' }, 'litellm.url is required'],
    [{ 'litellm.masterKeySecret.name': '' }, 'litellm.masterKeySecret.name is required'],
    [
      { 'redis.url': '' },
      'redis.url, redis.existingSecret.name or redis.inChart.enabled must be set',
    ],
  ])('says which required value is missing: %j', async (missing, message) => {
    const result = await helm(templateArgs({ ...REQUIRED, ...missing }));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it('accepts, under operator.settings and gateway.settings, every setting the README documents that the chart does not set itself', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const schema = JSON.parse(await readFile(join(CHART_DIR, 'values.schema.json'), 'utf8')) as {
      properties: Record<string, { properties: { settings: { properties: object } } }>;
    };
    const documented = (heading: string) => {
      const start = readme.indexOf(heading);
      const table = readme.slice(start, readme.indexOf('\n#', start + heading.length));
      return [...table.matchAll(/^\| `([A-Z_]+)`(?: \/ `([A-Z_]+)`)?/gm)].flatMap((m) =>
        m.slice(1).filter((n): n is string => n !== undefined && !n.startsWith('_')),
      );
    };
    const setByChart = new Set([
      'LITELLM_URL',
      'LITELLM_MASTER_KEY_FILE',
      'LITELLM_MASTER_KEY',
      'REDIS_URL',
      'ROUTING_PREFIX',
      'GATEWAY_URL',
      'HEALTH_PORT',
      'LEADER_ELECTION',
      'LEADER_ELECTION_NAMESPACE',
      'LEADER_ELECTION_LEASE_NAME',
      'POD_NAME',
      'KUBECONFIG',
      'PORT',
      'HOST',
      'MANAGEMENT_PORT',
      // operator.budgetAlerts.* (the SMTP URL may hold a password: host and a Secret instead)
      'BUDGET_ALERT_WEBHOOK_URL',
      'BUDGET_ALERT_WEBHOOK_SECRET_FILE',
      'BUDGET_ALERT_WEBHOOK_FORMAT',
      'BUDGET_ALERT_SMTP_URL',
      'BUDGET_ALERT_SMTP_HOST',
      'BUDGET_ALERT_SMTP_PORT',
      'BUDGET_ALERT_SMTP_USER',
      'BUDGET_ALERT_SMTP_PASSWORD_FILE',
      'BUDGET_ALERT_SMTP_TLS',
      'BUDGET_ALERT_SMTP_FROM',
      // audit.*
      'AUDIT_LOG',
      'AUDIT_WEBHOOK_URL',
      'AUDIT_WEBHOOK_SECRET_FILE',
    ]);
    const expectCovered = (heading: string, component: 'operator' | 'gateway') => {
      const names = documented(heading).filter((n) => !setByChart.has(n));
      expect(names.length).toBeGreaterThan(5);
      const accepted = Object.keys(schema.properties[component]!.properties.settings.properties);
      expect(accepted.sort()).toEqual(expect.arrayContaining(names.sort()));
    };
    expectCovered('### Operator configuration', 'operator');
    expectCovered('### Gateway configuration', 'gateway');
  });

  it('gives the operator budget alert settings, their secrets as files, and none by default', async () => {
    const operatorOf = async (values: Record<string, unknown>) =>
      (
        named(await renderChart(values), 'Deployment', 'llm-llm-tenancy-operator')!.spec as {
          template: { spec: PodSpec };
        }
      ).template.spec;
    const plain = await operatorOf(REQUIRED);
    expect(
      Object.keys(envOf(plain.containers[0]!)).filter((n) => n.startsWith('BUDGET_ALERT_')),
    ).toEqual([]);
    const spec = await operatorOf({
      ...REQUIRED,
      'operator.budgetAlerts.webhook.urlSecret.name': 'budget-webhook',
      'operator.budgetAlerts.webhook.secret.name': 'budget-webhook',
      'operator.budgetAlerts.webhook.format': 'slack',
      'operator.budgetAlerts.smtp.host': 'mail.example.com',
      'operator.budgetAlerts.smtp.user': 'alerts',
      'operator.budgetAlerts.smtp.passwordSecret.name': 'smtp',
      'operator.budgetAlerts.smtp.from': 'budgets@example.com',
    });
    const env = envOf(spec.containers[0]!);
    expect(env).toMatchObject({
      BUDGET_ALERT_WEBHOOK_URL: '(from a Secret)',
      BUDGET_ALERT_WEBHOOK_SECRET_FILE: '/var/run/llm-tenancy/budget-alerts/webhook-secret',
      BUDGET_ALERT_WEBHOOK_FORMAT: 'slack',
      BUDGET_ALERT_SMTP_HOST: 'mail.example.com',
      BUDGET_ALERT_SMTP_TLS: 'starttls',
      BUDGET_ALERT_SMTP_USER: 'alerts',
      BUDGET_ALERT_SMTP_PASSWORD_FILE: '/var/run/llm-tenancy/budget-alerts/smtp-password',
      BUDGET_ALERT_SMTP_FROM: 'budgets@example.com',
    });
    expect(spec.containers[0]!.volumeMounts).toContainEqual(
      expect.objectContaining({ mountPath: '/var/run/llm-tenancy/budget-alerts' }),
    );
    const parsed = parseConfig(
      {
        ...env,
        BUDGET_ALERT_WEBHOOK_URL: 'https://alerts.example.com/hook',
        LITELLM_MASTER_KEY: 'sk-test',
        LITELLM_MASTER_KEY_FILE: '',
        REDIS_URL: 'redis://redis:6379',
        LEADER_ELECTION: 'false',
      },
      { hostname: 'op', identitySuffix: 'test' },
    );
    expect(parsed.budgetAlerts.smtp).toMatchObject({ host: 'mail.example.com', port: 587 });
    expect(parsed.budgetAlerts.webhook?.format).toBe('slack');
  });

  it('gives both programs the audit trail: stdout by default, or a file and a signed webhook', async () => {
    const podsOf = async (values: Record<string, unknown>) => {
      const objects = await renderChart(values);
      return ['operator', 'gateway'].map(
        (component) =>
          (
            named(objects, 'Deployment', `llm-llm-tenancy-${component}`)!.spec as {
              template: { spec: PodSpec };
            }
          ).template.spec,
      );
    };
    for (const spec of await podsOf(REQUIRED)) {
      const env = envOf(spec.containers[0]!);
      expect(env.AUDIT_LOG).toBe('stdout');
      expect(Object.keys(env).filter((n) => n.startsWith('AUDIT_WEBHOOK'))).toEqual([]);
    }
    const [operator, gateway] = await podsOf({
      ...REQUIRED,
      'audit.log': 'file',
      'audit.webhook.urlSecret.name': 'siem',
      'audit.webhook.secret.name': 'siem',
    });
    for (const spec of [operator!, gateway!]) {
      const container = spec.containers[0]!;
      const env = envOf(container);
      expect(env).toMatchObject({
        AUDIT_LOG: '/var/log/llm-tenancy/audit.jsonl',
        AUDIT_WEBHOOK_URL: '(from a Secret)',
        AUDIT_WEBHOOK_SECRET_FILE: '/var/run/llm-tenancy/audit/webhook-secret',
      });
      expect(container.volumeMounts).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'audit-log', mountPath: '/var/log/llm-tenancy' }),
          expect.objectContaining({ name: 'audit-webhook-secret', readOnly: true }),
        ]),
      );
      expect(spec.volumes).toContainEqual(
        expect.objectContaining({
          name: 'audit-webhook-secret',
          secret: expect.objectContaining({ secretName: 'siem' }),
        }),
      );
    }
    // What the chart sets is what both programs accept.
    const settings = {
      ...envOf(gateway!.containers[0]!),
      AUDIT_WEBHOOK_URL: 'https://siem.example.com/in',
    };
    expect(
      parseGatewayConfig({ ...settings, REDIS_URL: 'redis://redis:6379' }).auditWebhook,
    ).toEqual({
      url: 'https://siem.example.com/in',
      secretFile: '/var/run/llm-tenancy/audit/webhook-secret',
    });
    await expect(renderChart({ ...REQUIRED, 'audit.log': '/tmp/audit.jsonl' })).rejects.toThrow(
      /audit.log/,
    );
  });

  describe('with sign-in on', () => {
    const SIGNIN = {
      ...REQUIRED,
      'gateway.ingress.enabled': true,
      'gateway.ingress.host': 'llm.example.com',
      'gateway.signin.provider': 'oidc',
      'gateway.signin.issuerUrl': 'https://dex.example.com',
      'gateway.signin.clientId': 'llm-tenancy',
      'gateway.signin.clientSecret.name': 'dex-client',
      'gateway.signin.sessionSecret.name': 'gateway-sessions',
      'gateway.signin.roleGroups': 'admin=platform-admins',
      'gateway.masterKeyAccess': true,
    };
    const gatewaySpec = (objects: RenderedObject[]) =>
      (
        named(objects, 'Deployment', 'llm-llm-tenancy-gateway')!.spec as {
          template: { spec: PodSpec };
        }
      ).template.spec;

    it('gives the gateway a token, its secrets as files and settings its config accepts', async () => {
      const objects = await renderChart(SIGNIN);
      const spec = gatewaySpec(objects);
      expect(spec.automountServiceAccountToken).toBe(true);
      expect(
        named(objects, 'ServiceAccount', 'llm-llm-tenancy-gateway')!.automountServiceAccountToken,
      ).toBe(true);
      const env = envOf(spec.containers[0]!);
      expect(env).toMatchObject({
        SIGNIN_PROVIDER: 'oidc',
        PUBLIC_URL: 'https://llm.example.com',
        OIDC_ISSUER_URL: 'https://dex.example.com',
        OIDC_CLIENT_SECRET_FILE: '/etc/llm-tenancy/signin/client-secret',
        SESSION_SECRET_FILE: '/etc/llm-tenancy/signin/session-secret',
        LITELLM_MASTER_KEY_FILE: '/etc/llm-tenancy/litellm/master-key',
        ROLE_GROUPS: 'admin=platform-admins',
      });
      expect(spec.volumes?.map((v) => v.name)).toEqual(
        expect.arrayContaining(['signin-secrets', 'litellm-master-key']),
      );
      // The files are read at start: point the config at copies, then it must accept the rest.
      const dir = await mkdtemp(join(tmpdir(), 'chart-signin-'));
      await writeFile(join(dir, 'client'), 'secret');
      await writeFile(join(dir, 'session'), 'x'.repeat(48));
      const config = parseGatewayConfig({
        ...env,
        OIDC_CLIENT_SECRET_FILE: join(dir, 'client'),
        SESSION_SECRET_FILE: join(dir, 'session'),
      });
      expect(config.signin).toMatchObject({
        provider: 'oidc',
        login: { redirectUrl: 'https://llm.example.com/auth/callback' },
        roleGroups: { admin: ['platform-admins'] },
        masterKeyFile: '/etc/llm-tenancy/litellm/master-key',
      });
      const ingress = named(objects, 'Ingress', 'llm-llm-tenancy-gateway')!;
      const paths = (ingress.spec as { rules: { http: { paths: { path: string }[] } }[] }).rules[0]!
        .http.paths;
      expect(paths.map((p) => p.path)).toEqual(['/v1', '/auth', '/api', '/ui']);
    });

    it('lets the gateway manage Users, read Teams and impersonate people, nothing more', async () => {
      const objects = await renderChart(SIGNIN);
      const role = named(objects, 'ClusterRole', 'llm-llm-tenancy-gateway')!;
      expect(role.rules).toEqual([
        {
          apiGroups: ['llmtenancy.dev'],
          resources: ['users'],
          verbs: ['get', 'list', 'watch', 'create', 'patch'],
        },
        { apiGroups: ['llmtenancy.dev'], resources: ['teams'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] },
        {
          apiGroups: ['authentication.k8s.io'],
          resources: ['userextras/llmtenancy.dev/user-name'],
          verbs: ['impersonate'],
        },
      ]);
      const binding = named(objects, 'ClusterRoleBinding', 'llm-llm-tenancy-gateway')!;
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'llm-llm-tenancy-gateway', namespace: expect.any(String) },
      ]);
      // Sign-in and master-key access off (the defaults): none of it, and no master key.
      const off = await renderChart(REQUIRED);
      expect(named(off, 'ClusterRole', 'llm-llm-tenancy-gateway')).toBeUndefined();
      expect(envOf(gatewaySpec(off).containers[0]!).LITELLM_MASTER_KEY_FILE).toBeUndefined();
      // The master key alone (before SSO): the same rights, so it can act as an admin.
      const masterKeyOnly = await renderChart({ ...REQUIRED, 'gateway.masterKeyAccess': true });
      expect(named(masterKeyOnly, 'ClusterRole', 'llm-llm-tenancy-gateway')!.rules).toEqual(
        role.rules,
      );
      expect(gatewaySpec(masterKeyOnly).automountServiceAccountToken).toBe(true);
      expect(envOf(gatewaySpec(masterKeyOnly).containers[0]!).SIGNIN_PROVIDER).toBeUndefined();
    });

    it('lets the gateway create Teams (create only) only with gateway.signin.autoCreateTeams', async () => {
      const teamRules = (objects: RenderedObject[]) =>
        (
          named(objects, 'ClusterRole', 'llm-llm-tenancy-gateway')!.rules as {
            resources: string[];
            verbs: string[];
          }[]
        ).filter((r) => r.resources.includes('teams'));
      const plain = await renderChart(SIGNIN);
      expect(teamRules(plain)).toEqual([
        { apiGroups: ['llmtenancy.dev'], resources: ['teams'], verbs: ['get', 'list'] },
      ]);
      expect(envOf(gatewaySpec(plain).containers[0]!).SIGNIN_AUTO_CREATE_TEAMS).toBeUndefined();

      const on = await renderChart({
        ...SIGNIN,
        'gateway.signin.autoCreateTeams': true,
        'gateway.signin.teamGroups': 'team-*,/org/ml',
      });
      expect(teamRules(on)).toEqual([
        { apiGroups: ['llmtenancy.dev'], resources: ['teams'], verbs: ['get', 'list'] },
        { apiGroups: ['llmtenancy.dev'], resources: ['teams'], verbs: ['create'] },
      ]);
      const env = envOf(gatewaySpec(on).containers[0]!);
      expect(env).toMatchObject({
        SIGNIN_AUTO_CREATE_TEAMS: 'true',
        SIGNIN_TEAM_GROUPS: 'team-*,/org/ml',
      });
      // The settings the chart writes are ones the gateway accepts.
      const dir = await mkdtemp(join(tmpdir(), 'chart-teams-'));
      await writeFile(join(dir, 'client'), 'secret');
      await writeFile(join(dir, 'session'), 'x'.repeat(48));
      const problems: string[] = [];
      const files = {
        OIDC_CLIENT_SECRET_FILE: join(dir, 'client'),
        SESSION_SECRET_FILE: join(dir, 'session'),
      };
      expect(parseSigninConfig({ ...env, ...files }, problems)?.teamGroups ?? problems).toEqual([
        'team-*',
        '/org/ml',
      ]);

      // The master key alone signs nobody in: no Team is created, so no create.
      const masterKeyOnly = await renderChart({
        ...REQUIRED,
        'gateway.masterKeyAccess': true,
        'gateway.signin.autoCreateTeams': true,
        'gateway.signin.teamGroups': 'team-*',
      });
      expect(teamRules(masterKeyOnly)).toEqual([
        { apiGroups: ['llmtenancy.dev'], resources: ['teams'], verbs: ['get', 'list'] },
      ]);
      await expect(
        renderOnce({ ...SIGNIN, 'gateway.signin.autoCreateTeams': true }),
      ).rejects.toThrow(/gateway.signin.teamGroups is required/);
    });

    it('refuses sign-in without its secrets, with the value to set', async () => {
      const values = { ...SIGNIN, 'gateway.signin.sessionSecret.name': '' };
      await expect(renderOnce(values)).rejects.toThrow(
        /gateway.signin.sessionSecret.name is required/,
      );
    });
  });

  it('has its values reference in README.md up to date (npm run chart-docs)', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(await readmeWithReference(readme)).toBe(readme);
  }, 30_000);
});
