// Events recorded on a real API server (events.k8s.io/v1): repeats fold into one Event with
// a count; cluster-scoped objects' events go to "default".
import { randomBytes } from 'node:crypto';
import {
  CoreV1Api,
  EventsV1Api,
  type EventsV1Event,
  type KubeConfig,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { EventRecorder } from '../../operator/src/runtime/events.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';
import { kubeClient } from '../../operator/src/runtime/kube-client.ts';

describe('EventRecorder', () => {
  let kc: KubeConfig;
  let events: EventsV1Api;
  beforeAll(() => {
    kc = kubeConfigFromInject();
    events = kc.makeApiClient(EventsV1Api);
  });

  const about = async (namespace: string, uid: string): Promise<EventsV1Event[]> =>
    (await events.listNamespacedEvent({ namespace })).items.filter((e) => e.regarding?.uid === uid);

  it('creates an Event about the object, and folds repeats into its series count', async () => {
    const namespace = await uniqueNamespace('events');
    const cm = await kc
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cm' } } });
    const object = { ...cm, apiVersion: 'v1', kind: 'ConfigMap' };
    const recorder = new EventRecorder(kubeClient(kc), {
      reportingController: 'llmtenancy.dev/operator',
      reportingInstance: 'test-1',
    });
    const failing = {
      type: 'Warning' as const,
      reason: 'LiteLLMUnavailable',
      note: 'connection refused',
    };
    await recorder.record(object, failing);
    await recorder.record(object, failing);
    await recorder.record(object, failing);
    await recorder.record(object, {
      type: 'Normal',
      reason: 'Synced',
      note: 'team created in LiteLLM',
    });

    const recorded = await about(namespace, cm.metadata!.uid!);
    expect(recorded).toHaveLength(2);
    const warning = recorded.find((e) => e.reason === 'LiteLLMUnavailable')!;
    expect(warning).toMatchObject({
      type: 'Warning',
      note: 'connection refused',
      action: 'Reconcile',
      reportingController: 'llmtenancy.dev/operator',
      reportingInstance: 'test-1',
      regarding: { kind: 'ConfigMap', name: 'cm', namespace },
    });
    expect(warning.series?.count).toBe(3);
    expect(recorded.find((e) => e.reason === 'Synced')?.series).toBeUndefined();
  });

  it('records events of cluster-scoped objects in the default namespace', async () => {
    const uid = `uid-${randomBytes(4).toString('hex')}`;
    const recorder = new EventRecorder(kubeClient(kc), {
      reportingController: 'llmtenancy.dev/operator',
    });
    await recorder.record(
      {
        apiVersion: 'llmtenancy.dev/v1alpha1',
        kind: 'Team',
        metadata: { name: 'ml-research', uid },
      },
      {
        type: 'Normal',
        reason: 'Created',
        action: 'CreateTeam',
        note: 'created LiteLLM team ml-research',
      },
    );
    const recorded = await about('default', uid);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      action: 'CreateTeam',
      regarding: { kind: 'Team', name: 'ml-research' },
    });
  });

  it('never throws: a failure to record is only logged', async () => {
    const recorder = new EventRecorder(kubeClient(kc), {
      reportingController: 'llmtenancy.dev/operator',
    });
    // No such namespace: the API server refuses, the reconcile must not fail for it.
    await expect(
      recorder.record(
        {
          kind: 'ConfigMap',
          apiVersion: 'v1',
          metadata: { name: 'x', namespace: `missing-${randomBytes(3).toString('hex')}` },
        },
        {
          type: 'Normal',
          reason: 'Test',
          note: 'n',
        },
      ),
    ).resolves.toBeUndefined();
  });
});
