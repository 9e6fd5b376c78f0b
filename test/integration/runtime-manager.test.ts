// The Manager end to end on a real API server: preflight names missing resources; a Team
// controller runs only as leader, reconciles from the shared cache, writes status, and its
// generation predicate keeps its own status writes from triggering it again; /healthz,
// /readyz and /metrics answer; stop() releases the lease.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { CoordinationV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Team } from '../../crds/api/index.ts';
import { setCondition } from '../../operator/src/runtime/conditions.ts';
import type { ResourceType } from '../../operator/src/runtime/discovery.ts';
import { generationChanged } from '../../operator/src/runtime/event-handlers.ts';
import { Manager } from '../../operator/src/runtime/manager.ts';
import { StatusWriter } from '../../operator/src/runtime/status.ts';
import { aTeam } from '../fixtures/builders.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';
import { kubeClient } from '../../operator/src/runtime/kube-client.ts';

const group = 'llmtenancy.dev';
const version = 'v1alpha1';
const teams: ResourceType = {
  apiVersion: `${group}/${version}`,
  kind: 'Team',
  plural: 'teams',
  namespaced: false,
};
const poll = { timeout: 30_000, interval: 50 };

/** A pino logger writing JSON lines into an array. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('Manager', () => {
  let kc: KubeConfig;
  beforeAll(() => {
    kc = kubeConfigFromInject();
  });

  it('fails preflight naming every watched type the API server does not serve', async () => {
    const manager = new Manager({
      kubeConfig: kc,
      leaderElection: false,
      healthPort: false,
      handleSignals: false,
      logger: pino({ level: 'silent' }),
    });
    manager.addController({
      name: 'widgets',
      reconciler: async () => ({}),
      for: { target: { apiVersion: 'widgets.example.com/v1', kind: 'Widget' } },
      watches: [
        { target: { apiVersion: `${group}/${version}`, kind: 'Gadget' }, map: () => [] },
        { target: { apiVersion: `${group}/${version}`, kind: 'Team' }, map: () => [] },
      ],
    });
    const error = await manager.start().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('preflight failed');
    expect(message).toContain(
      'Widget (widgets.example.com/v1): the API server does not serve widgets.example.com/v1; is its CustomResourceDefinition installed?',
    );
    expect(message).toContain(
      `Gadget (${group}/${version}): ${group}/${version} is served but has no kind Gadget`,
    );
    expect(message).not.toContain('Team');
    expect(manager.informers.informers.some((i) => i.hasSynced())).toBe(false);
  });

  it('runs a controller as leader, serves health and metrics, and releases the lease on stop', async () => {
    const run = randomBytes(3).toString('hex');
    const leaseNamespace = await uniqueNamespace('manager');
    const api = kc.makeApiClient(CustomObjectsApi);
    const statusWriter = new StatusWriter(kubeClient(kc), { fieldManager: 'team-controller' });
    const { lines, logger } = capturedLogger();
    const registry = new Registry();
    const manager = new Manager({
      kubeConfig: kc,
      logger,
      registry,
      healthPort: 0,
      healthHost: '127.0.0.1',
      handleSignals: false,
      leaderElection: {
        leaseName: 'llm-tenancy-operator',
        leaseNamespace,
        leaseDurationMs: 60_000,
        renewDeadlineMs: 3000,
        retryPeriodMs: 500,
      },
    });
    const reconciled: string[] = [];
    const target = {
      apiVersion: `${group}/${version}`,
      kind: 'Team',
      labelSelector: `runtime-test=${run}`,
    };
    const teamInformer = manager.informers.informerFor<Team>(target);
    manager.addController({
      name: 'team',
      workers: 2,
      for: { target, updatePredicate: generationChanged },
      reconciler: async (request) => {
        const team = teamInformer.store.getByName(request.name);
        if (!team) return {};
        reconciled.push(`${request.name}@${team.metadata.generation}`);
        await statusWriter.update(teams, team, (current) => ({
          observedGeneration: current.metadata.generation,
          conditions: setCondition(current.status?.conditions, {
            type: 'Ready',
            status: 'True',
            reason: 'Reconciled',
            observedGeneration: current.metadata.generation,
          }),
        }));
        return {};
      },
    });
    expect(manager.readiness().ready).toBe(false);

    const name = `manager-${run}`;
    await api.createClusterCustomObject({
      group,
      version,
      plural: 'teams',
      body: aTeam(name).with('metadata.labels', { 'runtime-test': run }).build(),
    });
    const running = manager.start();
    const observedGeneration = async () =>
      ((await api.getClusterCustomObject({ group, version, plural: 'teams', name })) as Team).status
        ?.observedGeneration;
    await expect.poll(observedGeneration, poll).toBe(1);
    expect(manager.leading).toBe(true);

    const url = (path: string) => `http://127.0.0.1:${manager.healthPort}${path}`;
    expect((await fetch(url('/healthz'))).status).toBe(200);
    expect(await (await fetch(url('/readyz'))).text()).toBe('ok\n');

    // Spec change: reconciled. Label-only change, and our own status writes: not.
    const patch = (body: unknown) =>
      api.patchClusterCustomObject({ group, version, plural: 'teams', name, body });
    await patch([{ op: 'replace', path: '/spec/models', value: ['granite-3-8b', 'llama-3-8b'] }]);
    await expect.poll(observedGeneration, poll).toBe(2);
    await patch([{ op: 'add', path: '/metadata/labels/unrelated', value: 'x' }]);
    await patch([{ op: 'add', path: '/spec/displayName', value: 'ML' }]);
    await expect.poll(observedGeneration, poll).toBe(3);
    expect(reconciled).toEqual([`${name}@1`, `${name}@2`, `${name}@3`]);

    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toContain(
      'controller_runtime_reconcile_total{controller="team",result="success"} 3',
    );
    expect(metrics).toContain('controller_runtime_max_concurrent_reconciles{controller="team"} 2');
    expect(metrics).toMatch(/workqueue_adds_total\{name="team"\} 3/);
    expect(metrics).toContain('workqueue_depth{name="team"} 0');
    // What it asked of the API server, counted on its side with the server's labels: the
    // cache's list and watch, the three status writes (the same KubeConfig), and the Lease.
    const kubeRequests = (labels: string) =>
      Number(
        new RegExp(`^llmtenancy_kube_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(
          metrics,
        )?.[1] ?? 0,
      );
    const teamsLabels = 'group="llmtenancy.dev",resource="teams"';
    expect(kubeRequests(`verb="list",${teamsLabels},subresource="",code="200"`)).toBe(1);
    expect(kubeRequests(`verb="watch",${teamsLabels},subresource="",code="200"`)).toBeGreaterThan(
      0,
    );
    expect(kubeRequests(`verb="update",${teamsLabels},subresource="status",code="200"`)).toBe(3);
    expect(
      kubeRequests(
        'verb="create",group="coordination.k8s.io",resource="leases",subresource="",code="201"',
      ),
    ).toBe(1);
    expect(metrics).not.toContain(name); // no object's name becomes a label value

    const configLogs = lines.filter((l) => l.msg === 'effective configuration');
    expect(configLogs).toHaveLength(1);
    expect(configLogs[0]).toMatchObject({
      config: {
        leaderElection: { lease: `${leaseNamespace}/llm-tenancy-operator` },
        controllers: [{ name: 'team', workers: 2 }],
      },
    });
    expect(JSON.stringify(lines)).not.toMatch(/BEGIN (RSA |EC )?PRIVATE KEY|client-key-data/);

    await manager.stop();
    await running;
    expect(manager.leading).toBe(false);
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'llm-tenancy-operator', namespace: leaseNamespace });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
    await expect(fetch(url('/healthz'))).rejects.toThrow();
  });
});
