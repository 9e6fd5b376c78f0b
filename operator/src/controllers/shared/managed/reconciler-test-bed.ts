// What the Team, User and VirtualKey reconcilers' unit tests share, in the manner of
// cert-manager's controller tests: the fake KubeClient (runtime/fake-kube-client.ts) for the
// API server, and the LiteLLM-compatible test server (test/litellm-server/, which follows
// ../shared/litellm/ field for field) run in-process for LiteLLM, so a reconciler is tested
// against LiteLLM's semantics (404s, 409s, metadata replaced wholesale) rather than a stub's.
import {
  startLiteLLMServer,
  type LiteLLMTestServer,
} from '../../../../../test/litellm-server/server.ts';
import { LiteLLMClient } from '../../../litellm/client.ts';
import type { ReconcileContext } from '../../../runtime/controller.ts';
import { EVENT_RESOURCE } from '../../../runtime/events.ts';
import type { FakeKubeClient } from '../../../runtime/fake-kube-client.ts';
import { silentLogger } from '../../../runtime/logger.ts';
import type { KubeObject } from '../../../runtime/object.ts';

export const MASTER_KEY = 'sk-master-unit-test';
export const INSTALLATION = 'install-unit';
export const MODELS = ['granite-3-8b', 'gpt-test'];

export function startLiteLLM(): Promise<LiteLLMTestServer> {
  return startLiteLLMServer({ masterKey: MASTER_KEY, models: MODELS });
}

/** A client that tries once and never sleeps: a failure reaches the reconciler at once. */
export function litellmClient(server: LiteLLMTestServer): LiteLLMClient {
  return new LiteLLMClient({
    baseUrl: server.url,
    masterKey: MASTER_KEY,
    timeoutMs: 2_000,
    retry: { maxAttempts: 1 },
    circuitBreaker: { failureThreshold: 1_000 },
    sleep: async () => {},
  });
}

export function reconcileContext(): ReconcileContext {
  return { signal: new AbortController().signal, log: silentLogger };
}

export interface RecordedEvent {
  type: string;
  reason: string;
  note: string;
}

/** The Events the fake holds, once the recorder's unawaited writes have run. */
export async function eventsIn(kube: FakeKubeClient): Promise<RecordedEvent[]> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return kube
    .objectsOf<KubeObject & Partial<RecordedEvent>>(EVENT_RESOURCE)
    .map(({ type = '', reason = '', note = '' }) => ({ type, reason, note }));
}

/** The fake's writes other than Events, as "verb Kind". */
export function objectWrites(kube: FakeKubeClient, from = 0): string[] {
  return kube.writes
    .slice(from)
    .filter((w) => w.kind !== 'Event')
    .map((w) => `${w.verb} ${w.kind}`);
}
