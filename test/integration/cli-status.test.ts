// kubectl llm status, the real executable: CRDs served, the operator's leader from a Lease a
// real LeaderElector holds, the gateway's management app (its /readyz, ready and not) or no
// gateway at all, Ready counts per kind; and the CRDs-missing error, seen through a proxy
// that sends requests for llmtenancy.dev to a group the apiserver does not serve, so the
// answer is the apiserver's own.
import type { AddressInfo } from 'node:net';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import getPort from 'get-port';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildManagementApp } from '../../gateway/src/management.ts';
import { kubeClient } from '../../operator/src/runtime/kube-client.ts';
import { LeaderElector } from '../../operator/src/runtime/leader-election.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';
import { startApiserverProxy, type ApiserverProxy } from './support/apiserver-proxy.ts';
import { kubectlLlm, tableRows } from './support/kubectl-llm.ts';
import { poll, suffix } from './support/team-operator.ts';

describe('kubectl llm status', () => {
  const run = suffix();
  let kc: KubeConfig;
  let kubeconfig: string;
  let namespace: string;
  let elector: { stop: AbortController; done: Promise<void> } | undefined;
  const identity = `operator-pod-${run}`;
  const cli = (...args: string[]) => kubectlLlm(kubeconfig, args);

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    kubeconfig = inject('kubeconfigPath');
    namespace = await uniqueNamespace('cli-status', kc);
    const stop = new AbortController();
    const leader = new LeaderElector(kubeClient(kc), {
      leaseName: 'llm-tenancy-operator',
      leaseNamespace: namespace,
      identity,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 1_000,
      onStartedLeading: () => {},
      onStoppedLeading: () => {},
    });
    elector = { stop, done: leader.run(stop.signal) };
  });

  afterAll(async () => {
    elector?.stop.abort();
    await elector?.done;
  });

  async function management(ready: boolean) {
    const app = buildManagementApp({
      registry: new Registry(),
      checks: [{ name: 'routing-config', ok: () => ready }],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, app };
  }

  /** Operator pods as the chart labels them (no kubelet runs: status is written here). */
  async function operatorPod(name: string, ready: boolean) {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name,
          labels: {
            'app.kubernetes.io/part-of': 'llm-tenancy',
            'app.kubernetes.io/component': 'operator',
          },
        },
        spec: { containers: [{ name: 'operator', image: 'llm-tenancy:test' }] },
      },
    });
    const pod = await core.readNamespacedPod({ namespace, name });
    await core.replaceNamespacedPodStatus({
      namespace,
      name,
      body: {
        ...pod,
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
        },
      },
    });
  }

  it('reports CRDs, the leader, a ready gateway and Ready counts; exit 0', async () => {
    await operatorPod('operator-a', true);
    await operatorPod('operator-b', false);
    const gateway = await management(true);
    try {
      const lease = `${namespace}/llm-tenancy-operator`;
      await expect
        .poll(
          async () =>
            (await cli('status', '--operator-lease', lease, '--gateway', gateway.url)).stdout,
          poll,
        )
        .toContain(`leader ${identity}`);
      const result = await cli('status', '--operator-lease', lease, '--gateway', gateway.url);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        /^ok {4}CRDs {6}llmtenancy\.dev v1alpha1 \(preferred v1alpha1\): teams, users, modelsubscriptions, virtualkeys$/m,
      );
      expect(result.stdout).toMatch(
        new RegExp(
          `^ok {4}Operator  leader ${identity} \\(Lease ${lease}, renewed \\d+s ago\\); operator pods 1/2 Ready$`,
          'm',
        ),
      );
      expect(result.stdout).toContain(`ok    Gateway   ${gateway.url}/readyz: ready`);
      const kinds = tableRows(result.stdout.slice(result.stdout.indexOf('KIND')));
      expect(kinds.map((k) => k.KIND)).toEqual(['Team', 'User', 'ModelSubscription', 'VirtualKey']);
      expect(kinds[0]!.SCOPE).toBe('cluster');
      expect(kinds[3]!.SCOPE).toBe('all namespaces');

      const json = JSON.parse(
        (await cli('status', '--operator-lease', lease, '--gateway', gateway.url, '-o', 'json'))
          .stdout,
      ) as { ok: boolean; operator: { leader: string }; objects: { kind: string }[] };
      expect(json.ok).toBe(true);
      expect(json.operator.leader).toBe(identity);
      expect(json.objects).toHaveLength(4);
    } finally {
      await gateway.app.close();
    }
  });

  it('a gateway that is not ready, or not there, fails the status with what to do; exit 1', async () => {
    const gateway = await management(false);
    try {
      const notReady = await cli(
        'status',
        '--gateway',
        gateway.url,
        '--operator-lease',
        `${namespace}/llm-tenancy-operator`,
      );
      expect(notReady.code).toBe(1);
      expect(notReady.stdout).toContain(
        `FAIL  Gateway   ${gateway.url}/readyz: not ready (failing: routing-config)`,
      );
    } finally {
      await gateway.app.close();
    }
    const port = await getPort({ host: '127.0.0.1' });
    const gone = await kubectlLlm(
      kubeconfig,
      ['status', '--operator-lease', `${namespace}/llm-tenancy-operator`],
      {
        KUBECTL_LLM_GATEWAY: `http://127.0.0.1:${port}`,
      },
    );
    expect(gone.code).toBe(1);
    expect(gone.stdout).toContain(
      `FAIL  Gateway   gateway unreachable at http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect(gone.stdout).toContain('kubectl port-forward');
  });

  it('says so when the operator has released its Lease; exit 1', async () => {
    elector!.stop.abort();
    await elector!.done;
    elector = undefined;
    const lease = `${namespace}/llm-tenancy-operator`;
    const result = await cli('status', '--operator-lease', lease);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`FAIL  Operator  no leader: Lease ${lease} is released`);
    expect(result.stdout).toContain('-     Gateway   not checked: pass --gateway URL');
  });

  describe('without the CRDs', () => {
    let proxy: ApiserverProxy;
    let proxied: string;

    beforeAll(async () => {
      // llmtenancy.dev becomes a group nobody serves: the answers are the apiserver's own.
      proxy = await startApiserverProxy(kc, {
        namespace,
        rewritePath: (path) =>
          path.replace(/^\/apis\/llmtenancy\.dev(?=\/|$|\?)/, '/apis/absent.llmtenancy.test'),
      });
      proxied = proxy.kubeconfigPath;
    });

    afterAll(async () => {
      await proxy?.close();
    });

    it('status fails on the CRDs and says how to install them', async () => {
      const result = await kubectlLlm(proxied, [
        'status',
        '--operator-lease',
        `${namespace}/llm-tenancy-operator`,
      ]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(
        'FAIL  CRDs      the apiserver does not serve llmtenancy.dev: the CRDs are not installed; install the llm-tenancy chart',
      );
      expect(result.stdout).toContain('kubectl apply -f crds/');
    });

    it('every other command says the same, not "not found"', async () => {
      for (const args of [
        ['teams'],
        ['keys'],
        ['key', 'create', 'app'],
        ['subscribe', 'granite-3-8b'],
      ]) {
        const result = await kubectlLlm(proxied, args);
        expect(result.code, args.join(' ')).toBe(1);
        expect(result.stderr, args.join(' ')).toContain('the llm-tenancy CRDs are not installed');
      }
    });
  });
});
