// `helm test` must pass where NetworkPolicies are enforced (OpenShift's OVN-Kubernetes, kind's
// kindnet, Calico): the test Pod calls the gateway's /readyz on its management port and its
// API port, so the chart's own policies must admit exactly that Pod there. The rendered
// policies are evaluated here as the API documents them (podSelector matchLabels, the same
// namespace when `from` names no namespaceSelector, named ports); no CNI runs in these tests.
import { describe, expect, it } from 'vitest';
import { renderChart, type RenderedObject } from '../harness/helm.ts';

// Field access on rendered YAML, for assertions only.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Labels = Record<string, string>;

const matches = (selector: { matchLabels?: Labels } | undefined, labels: Labels) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

/** Whether `policy` lets a pod with `from` labels (in the policy's namespace) reach `port`. */
function admits(policy: any, from: Labels, port: string): boolean {
  return (policy.spec.ingress ?? []).some((rule: any) => {
    const portOk = !rule.ports || rule.ports.some((p: any) => p.port === port);
    const peerOk =
      !rule.from ||
      rule.from.some((peer: any) => !peer.namespaceSelector && matches(peer.podSelector, from));
    return portOk && peerOk;
  });
}

describe('the chart NetworkPolicies and `helm test`', () => {
  it('admit the test Pod to the gateway ports it calls, and no other pod of the namespace to management', async () => {
    const objects = await renderChart({
      'litellm.url': 'http://litellm.litellm.svc:4000',
      'litellm.masterKeySecret.name': 'litellm-master-key',
      'redis.inChart.enabled': true,
    });
    const testPod = objects.find(
      (o) => o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'] === 'test',
    ) as RenderedObject & { spec: any };
    expect(testPod).toBeDefined();
    const script: string = testPod.spec.containers[0].args.join('\n');
    expect(script).toContain(':8082/readyz');

    const gatewayPod = objects.find(
      (o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-gateway'),
    ) as RenderedObject & { spec: any };
    const gatewayLabels: Labels = gatewayPod.spec.template.metadata.labels;
    const policies = objects.filter(
      (o) => o.kind === 'NetworkPolicy' && matches((o as any).spec.podSelector, gatewayLabels),
    );
    expect(policies).not.toHaveLength(0);
    const reaches = (from: Labels, port: string) => policies.some((p) => admits(p, from, port));

    const testLabels = testPod.metadata.labels ?? {};
    expect(reaches(testLabels, 'management')).toBe(true);
    expect(reaches(testLabels, 'http')).toBe(true);
    // Any other pod of the namespace (a tenant's, say) still reaches only the API port.
    const other = { app: 'something-else' };
    expect(reaches(other, 'http')).toBe(true);
    expect(reaches(other, 'management')).toBe(false);
  });
});
