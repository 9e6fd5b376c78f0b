// examples/gitops as Argo CD and Flux would read it: every kustomization rendered by a real
// kustomize (kubectl's), the two repositories holding what their appliers may write, the
// overlays differing where they say, and the Argo CD and Flux manifests pointing at paths,
// projects, sources, ServiceAccounts and chart objects that exist. What applying the layers
// does against an API server is test/integration/gitops-apply.test.ts.
import { execFile } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_DIR, helm, templateArgs } from '../harness/helm.ts';
import { EXAMPLES_DIR, kustomize, objectsOf } from '../harness/kustomize.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GITOPS = join(EXAMPLES_DIR, 'gitops');
const REPO_URL = 'https://github.com/llm-tenancy/llm-tenancy.git';
const TENANT_NAMESPACE = 'ml-research';
const TENANT_SA = 'llm-tenancy-gitops';
const TENANT_KINDS = ['ModelSubscription', 'VirtualKey'];
const LUA = process.env.LUA ?? 'lua5.1';

// Field access on parsed YAML, for assertions only.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = KubernetesObject & { kind: string; [field: string]: any };

const idOf = (o: KubernetesObject) =>
  `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
const render = (dir: string) => kustomize(join(GITOPS, dir)) as Promise<Obj[]>;
const byKind = (objects: Obj[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: Obj[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata?.name === name);

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Every directory under examples/ holding a kustomization.yaml. */
async function kustomizationDirs(): Promise<string[]> {
  const entries = await readdir(EXAMPLES_DIR, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name === 'kustomization.yaml')
    .map((e) => relative(EXAMPLES_DIR, e.parentPath) || '.')
    .sort();
}

async function yamlFile(path: string): Promise<Obj[]> {
  return objectsOf(await readFile(join(GITOPS, path), 'utf8')) as Obj[];
}

describe('examples/gitops: kustomizations', () => {
  it('every kustomization under examples/ renders with kubectl kustomize', async () => {
    const dirs = await kustomizationDirs();
    expect(dirs).toEqual(
      expect.arrayContaining([
        '.',
        'gitops/platform/base',
        'gitops/platform/overlays/dev',
        'gitops/platform/overlays/prod',
        'gitops/tenant/base',
        'gitops/tenant/overlays/dev',
        'gitops/tenant/overlays/prod',
        'gitops/argocd/apps',
        'gitops/flux/chart',
        'gitops/flux/tenants',
      ]),
    );
    for (const dir of dirs) {
      const objects = await kustomize(join(EXAMPLES_DIR, dir));
      expect(objects.length, dir).toBeGreaterThan(0);
    }
  });

  it.each(['base', 'overlays/dev', 'overlays/prod'])(
    'the tenant repository (%s) holds only what a tenant writes: its two kinds in its namespace, no personal key',
    async (dir) => {
      const objects = await render(`tenant/${dir}`);
      expect(objects.map(idOf).sort()).toEqual([
        'ModelSubscription/ml-research/granite',
        'VirtualKey/ml-research/chatbot',
      ]);
      for (const o of objects) {
        expect(o.apiVersion).toBe('llmtenancy.dev/v1alpha1');
        expect(TENANT_KINDS).toContain(o.kind);
        expect(o.metadata?.namespace).toBe(TENANT_NAMESPACE);
      }
      // Applied as a ServiceAccount: the admission policy refuses a personal key for a person.
      expect(named(objects, 'VirtualKey', 'chatbot')?.spec.user).toBeUndefined();
    },
  );

  it.each(['base', 'overlays/dev', 'overlays/prod'])(
    "the platform repository (%s) holds the Team, the Users and the team's access, none of the tenant's kinds",
    async (dir) => {
      const objects = await render(`platform/${dir}`);
      expect(objects.map(idOf).sort()).toEqual([
        'ClusterRoleBinding/llm-tenant-view-ml-research',
        'Namespace/ml-research',
        'RoleBinding/ml-research/llm-tenancy-edit',
        'RoleBinding/ml-research/llm-tenancy-gitops',
        'ServiceAccount/ml-research/llm-tenancy-gitops',
        'Team/ml-research',
        'User/alice',
        'User/bob',
      ]);
      expect(named(objects, 'Team', 'ml-research')?.spec.namespaces).toEqual([TENANT_NAMESPACE]);
    },
  );

  it('dev and prod differ in budgets and limits: dev below the base, prod above it', async () => {
    const team = async (dir: string) =>
      named(await render(`platform/${dir}`), 'Team', 'ml-research')!.spec.limits;
    const key = async (dir: string) =>
      named(await render(`tenant/${dir}`), 'VirtualKey', 'chatbot')!.spec.limits;
    const subscription = async (dir: string) =>
      named(await render(`tenant/${dir}`), 'ModelSubscription', 'granite')!.spec.limits;
    for (const limits of [team, key, subscription]) {
      const [dev, base, prod] = await Promise.all(
        ['overlays/dev', 'base', 'overlays/prod'].map(limits),
      );
      expect(Number(dev.rpm)).toBeLessThan(Number(base.rpm));
      expect(Number(base.rpm)).toBeLessThan(Number(prod.rpm));
      if (base.maxBudget !== undefined) {
        expect(Number(dev.maxBudget)).toBeLessThan(Number(base.maxBudget));
        expect(Number(base.maxBudget)).toBeLessThan(Number(prod.maxBudget));
      }
    }
  });

  it("the platform's team bindings agree with examples/tenant-rbac.yaml and bind its ClusterRoles", async () => {
    const example = objectsOf(
      await readFile(join(EXAMPLES_DIR, 'tenant-rbac.yaml'), 'utf8'),
    ) as Obj[];
    const clusterRoles = byKind(example, 'ClusterRole').map((o) => o.metadata?.name);
    const platform = await render('platform/base');
    const bindings = platform.filter((o) => o.kind.endsWith('Binding'));
    expect(bindings.length).toBeGreaterThan(0);
    for (const binding of bindings) {
      expect(binding.roleRef.kind, idOf(binding)).toBe('ClusterRole');
      expect(clusterRoles, idOf(binding)).toContain(binding.roleRef.name);
      const same = example.find((o) => idOf(o) === idOf(binding));
      if (same) expect(binding, idOf(binding)).toEqual(same);
    }
    // The GitOps identity holds the tenant's edit role in its namespace, nothing cluster-wide.
    const gitops = bindings.filter((b) =>
      b.subjects.some((s: Obj) => s.kind === 'ServiceAccount' && s.name === TENANT_SA),
    );
    expect(gitops.map(idOf)).toEqual([`RoleBinding/${TENANT_NAMESPACE}/${TENANT_SA}`]);
    expect(gitops[0]!.roleRef.name).toBe('llm-tenancy-edit');
  });

  it('the quick start (examples/) is both bases, nothing else', async () => {
    const all = (await kustomize(EXAMPLES_DIR)).map(idOf).sort();
    const bases = [...(await render('platform/base')), ...(await render('tenant/base'))].map(idOf);
    expect(all).toEqual(bases.sort());
  });
});

describe('examples/gitops: the chart values of the platform repository', () => {
  it('pass the chart schema and turn on group sync and the tenant ClusterRoles', async () => {
    const result = await helm([
      ...templateArgs({}, { apiVersions: ['route.openshift.io/v1'] }),
      '-f',
      join(GITOPS, 'platform/chart-values.yaml'),
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const objects = objectsOf(result.stdout) as Obj[];
    const operator = named(objects, 'Deployment', 'llm-llm-tenancy-operator');
    expect(operator?.spec.template.spec.containers[0].env).toContainEqual({
      name: 'GROUP_SYNC_SELECTOR',
      value: 'llmtenancy.dev/team=true',
    });
    for (const role of ['llm-tenancy-edit', 'llm-tenancy-view', 'llm-tenant-view']) {
      expect(named(objects, 'ClusterRole', role), role).toBeDefined();
    }
  });
});

describe('examples/gitops/argocd', () => {
  let apps: Obj[];
  let platform: Obj[];
  beforeAll(async () => {
    apps = await render('argocd/apps');
    platform = await render('platform/overlays/prod');
  });
  const application = (name: string) => named(apps, 'Application', name)!;
  const wave = (name: string) =>
    Number(application(name).metadata?.annotations?.['argocd.argoproj.io/sync-wave']);

  it('holds AppProjects and Applications only, each Application in a project of its own set', async () => {
    for (const o of apps) {
      expect(o.apiVersion, idOf(o)).toBe('argoproj.io/v1alpha1');
      expect(['AppProject', 'Application'], idOf(o)).toContain(o.kind);
      expect(o.metadata?.namespace, idOf(o)).toBe('argocd');
    }
    const projects = byKind(apps, 'AppProject').map((p) => p.metadata?.name);
    const [root] = await yamlFile('argocd/root.yaml');
    for (const app of [...byKind(apps, 'Application'), root!]) {
      expect(projects, idOf(app)).toContain(app.spec.project);
    }
    expect(byKind(apps, 'Application').map((a) => a.metadata?.name)).toEqual(
      expect.arrayContaining(['llm-tenancy', 'llm-tenancy-platform', 'ml-research']),
    );
  });

  it('every source is this repository at a path that exists, and the root applies apps/', async () => {
    const [root] = await yamlFile('argocd/root.yaml');
    expect(root!.spec.source.path).toBe('examples/gitops/argocd/apps');
    for (const app of [...byKind(apps, 'Application'), root!]) {
      const sources: Obj[] = app.spec.sources ?? [app.spec.source];
      for (const source of sources) {
        expect(source.repoURL, idOf(app)).toBe(REPO_URL);
        if (source.ref) continue;
        expect(await isDirectory(join(ROOT, source.path)), `${idOf(app)}: ${source.path}`).toBe(
          true,
        );
      }
    }
    // The chart's values file comes from the platform repository through a `ref` source.
    const chart = application('llm-tenancy');
    const refs = new Set(chart.spec.sources.map((s: Obj) => s.ref).filter(Boolean));
    for (const file of chart.spec.sources[0].helm.valueFiles as string[]) {
      const [ref, ...path] = file.split('/');
      expect(refs).toContain(ref!.replace(/^\$/, ''));
      expect(await isFile(join(ROOT, ...path)), file).toBe(true);
    }
  });

  it('sync waves: the chart (CRDs) before the platform objects, those before the team', () => {
    expect(wave('llm-tenancy')).toBeLessThan(wave('llm-tenancy-platform'));
    expect(wave('llm-tenancy-platform')).toBeLessThan(wave('ml-research'));
  });

  it('the chart and platform Applications never delete the CRDs or Teams when they are deleted', () => {
    for (const name of ['llm-tenancy', 'llm-tenancy-platform']) {
      expect(application(name).metadata?.finalizers ?? [], name).not.toContain(
        'resources-finalizer.argocd.argoproj.io',
      );
    }
    expect(application('llm-tenancy').spec.syncPolicy.automated.prune).toBe(false);
  });

  it("ignores the gateway's replica count, which its HPA owns, on the chart's own Deployment", async () => {
    const chart = application('llm-tenancy');
    const result = await helm([
      ...templateArgs({}, { release: chart.spec.sources[0].helm.releaseName }),
      '-f',
      join(GITOPS, 'platform/chart-values.yaml'),
    ]);
    const rendered = objectsOf(result.stdout) as Obj[];
    for (const ignored of chart.spec.ignoreDifferences as Obj[]) {
      const target = named(rendered, ignored.kind, ignored.name);
      expect(target, `${ignored.kind}/${ignored.name} in the chart`).toBeDefined();
      expect(ignored.jsonPointers).toEqual(['/spec/replicas']);
      expect(named(rendered, 'HorizontalPodAutoscaler', ignored.name)?.spec.scaleTargetRef).toEqual(
        { apiVersion: 'apps/v1', kind: 'Deployment', name: ignored.name },
      );
    }
  });

  it("the team's project: its namespace only, its two kinds only, synced as the platform's ServiceAccount for it", async () => {
    const project = named(apps, 'AppProject', 'ml-research')!;
    expect(project.spec.destinations).toEqual([
      { server: 'https://kubernetes.default.svc', namespace: TENANT_NAMESPACE },
    ]);
    expect(project.spec.clusterResourceWhitelist).toEqual([]);
    expect(project.spec.namespaceResourceWhitelist).toEqual(
      TENANT_KINDS.map((kind) => ({ group: 'llmtenancy.dev', kind })),
    );
    const [account] = project.spec.destinationServiceAccounts as Obj[];
    expect(account).toMatchObject({ namespace: TENANT_NAMESPACE });
    expect(
      named(platform, 'ServiceAccount', account!.defaultServiceAccount)?.metadata?.namespace,
    ).toBe(TENANT_NAMESPACE);
    // What the team's Application applies fits its project.
    const app = application('ml-research');
    expect(app.spec.project).toBe('ml-research');
    expect(app.spec.destination.namespace).toBe(TENANT_NAMESPACE);
    for (const o of await kustomize(join(ROOT, app.spec.source.path))) {
      expect(TENANT_KINDS, idOf(o)).toContain(o.kind);
    }
    // Argo CD impersonates only with the feature on.
    const [settings] = await yamlFile('argocd/settings.yaml');
    expect(settings!.data['application.sync.impersonation.enabled']).toBe('true');
  });

  it.each([
    ['Healthy', 'Healthy'],
    ['Degraded', 'Degraded'],
    [undefined, 'Progressing'],
  ])(
    "the Application health script passes a child Application's health on (%s → %s) under lua5.1",
    async (health, expected) => {
      const [settings] = await yamlFile('argocd/settings.yaml');
      const script = settings!.data['resource.customizations.health.argoproj.io_Application'];
      const obj = health ? `{ status = { health = { status = "${health}" } } }` : '{}';
      const program = `obj = ${obj}\nlocal function health()\n${script}\nend\nio.write(health().status)`;
      const stdout = await new Promise<string>((resolve, reject) => {
        const child = execFile(LUA, ['-'], (err, out, stderr) =>
          err ? reject(new Error(`${LUA}: ${stderr || err.message}`)) : resolve(out),
        );
        child.stdin?.end(program);
      });
      expect(stdout).toBe(expected);
    },
  );
});

describe('examples/gitops/flux', () => {
  let objects: Obj[];
  let platform: Obj[];
  beforeAll(async () => {
    objects = [
      ...(await yamlFile('flux/platform.yaml')),
      ...(await render('flux/chart')),
      ...(await render('flux/tenants')),
    ];
    platform = await render('platform/overlays/prod');
  });
  const kustomization = (name: string) => named(objects, 'Kustomization', name)!;

  it('uses the Flux v2 APIs', () => {
    const apiVersions: Record<string, string> = {
      GitRepository: 'source.toolkit.fluxcd.io/v1',
      Kustomization: 'kustomize.toolkit.fluxcd.io/v1',
      HelmRelease: 'helm.toolkit.fluxcd.io/v2',
    };
    for (const o of objects) expect(o.apiVersion, idOf(o)).toBe(apiVersions[o.kind]);
  });

  it('every Kustomization reads an existing path of a GitRepository in its namespace', async () => {
    for (const k of byKind(objects, 'Kustomization')) {
      const source = named(objects, k.spec.sourceRef.kind, k.spec.sourceRef.name);
      expect(source?.metadata?.namespace, idOf(k)).toBe(k.metadata?.namespace);
      expect(source?.spec.url).toBe(REPO_URL);
      expect(await isDirectory(join(ROOT, k.spec.path)), `${idOf(k)}: ${k.spec.path}`).toBe(true);
      await expect(kustomize(join(ROOT, k.spec.path))).resolves.not.toHaveLength(0);
    }
  });

  it('dependsOn: the chart (waited for) before the platform objects, those before the teams', () => {
    expect(kustomization('llm-tenancy-chart').spec.wait).toBe(true);
    expect(kustomization('llm-tenancy-platform').spec.dependsOn).toEqual([
      { name: 'llm-tenancy-chart' },
    ]);
    expect(kustomization('llm-tenancy-tenants').spec.dependsOn).toEqual([
      { name: 'llm-tenancy-platform' },
    ]);
    expect(kustomization('llm-tenancy-chart').spec.path).toBe('./examples/gitops/flux/chart');
    expect(kustomization('llm-tenancy-tenants').spec.path).toBe('./examples/gitops/flux/tenants');
  });

  it('the HelmRelease installs charts/llm-tenancy with its values.yaml first, then the platform values', async () => {
    const [release] = byKind(objects, 'HelmRelease');
    const chart = release!.spec.chart.spec;
    expect(join(ROOT, chart.chart)).toBe(CHART_DIR);
    expect(named(objects, chart.sourceRef.kind, chart.sourceRef.name)).toBeDefined();
    expect(chart.valuesFiles).toEqual([
      './charts/llm-tenancy/values.yaml',
      './examples/gitops/platform/chart-values.yaml',
    ]);
    for (const file of chart.valuesFiles as string[]) {
      expect(await isFile(join(ROOT, file)), file).toBe(true);
    }
    expect(parse(await readFile(join(ROOT, chart.valuesFiles[1]), 'utf8'))).toBeTypeOf('object');
  });

  it("the team's Kustomization runs as the team's ServiceAccount, in the team's namespace, on the tenant repository", () => {
    const tenant = kustomization('ml-research');
    expect(tenant.metadata?.namespace).toBe(TENANT_NAMESPACE);
    expect(tenant.spec.targetNamespace).toBe(TENANT_NAMESPACE);
    expect(tenant.spec.path).toBe('./examples/gitops/tenant/overlays/prod');
    const account = named(platform, 'ServiceAccount', tenant.spec.serviceAccountName);
    expect(account?.metadata?.namespace).toBe(TENANT_NAMESPACE);
    // The platform's own Kustomizations run with the controller's rights, in flux-system.
    for (const name of ['llm-tenancy-chart', 'llm-tenancy-platform', 'llm-tenancy-tenants']) {
      expect(kustomization(name).metadata?.namespace).toBe('flux-system');
      expect(kustomization(name).spec.serviceAccountName).toBeUndefined();
    }
  });
});
