// POST /api/me/keys: a personal VirtualKey, created *as the person* (so RBAC decides the
// namespace and the VirtualKey admission policy decides spec.user), then a bounded wait until
// the operator has made it Ready and written it to its Secret, which is read as the person too.
// The value is returned once, in this response; it is in the Secret from then on, which the
// person's RBAC decides they may read (kubectl) or not. A caller who goes away ends the wait
// (the key stays, as after the deadline): nobody is left to show the value to.
import { setTimeout as sleep } from 'node:timers/promises';
import type { VirtualKey } from '../../../crds/api/index.ts';
import { API_VERSION } from '../../../crds/api/meta.ts';
import { hashKey } from '../../../contracts/routing/key-hash.ts';
import type { KubeAsPerson } from '../kube/person-kube.ts';
import type { Principal } from '../signin/principal.ts';
import type { CreateKeyBody } from './request-bodies.ts';
import { isForbidden, isNotFound } from './self-service-errors.ts';
import { keySummary, type KeySummary } from './summaries.ts';

/** Labels every key made here carries, so `kubectl get vk -l` finds them. */
export const CREATED_BY_LABEL = { 'app.kubernetes.io/created-by': 'llm-tenancy-gateway' };

/** Ready=False reasons no wait will change: answer at once instead of at the deadline. */
const SETTLED_REASONS = new Set([
  'ModelsNotSubscribed',
  'NoSubscribedModels',
  'UserNotMember',
  'Expired',
  'Suspended',
]);
const POLL_MS = 200;

export interface CreatedKey {
  key: KeySummary;
  /** The key itself, once; null when it is not Ready in time or its Secret is not readable. */
  value: string | null;
  warnings: string[];
}

export interface CreateKeyOptions {
  readyTimeoutMs: number;
  labels: Readonly<Record<string, string>>;
  /** Aborted when the caller goes away: the wait stops there. */
  signal?: AbortSignal | undefined;
}

export async function createMyKey(
  kube: KubeAsPerson,
  principal: Principal,
  body: CreateKeyBody,
  options: CreateKeyOptions,
): Promise<CreatedKey> {
  const limits = {
    ...(body.budget !== undefined ? { maxBudget: body.budget } : {}),
    ...(body.budgetDuration !== undefined ? { budgetDuration: body.budgetDuration } : {}),
  };
  const created = await kube.createVirtualKey({
    apiVersion: API_VERSION,
    kind: 'VirtualKey',
    metadata: {
      namespace: body.namespace,
      ...(body.name
        ? { name: body.name }
        : { generateName: generatedNamePrefix(principal.userName) }),
      labels: { ...options.labels, ...CREATED_BY_LABEL },
    },
    spec: {
      user: principal.userName,
      ...(body.models.length > 0 ? { models: body.models } : {}),
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      ...(body.duration !== undefined ? { duration: body.duration } : {}),
    },
  });
  const name = created.metadata.name!;
  const deadline = Date.now() + options.readyTimeoutMs;
  let key = created;
  for (;;) {
    const ready = key.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True' && key.status?.secretName && key.status.keyId) {
      const value = await readValue(kube, key);
      if (value.value !== undefined || value.warning) {
        return {
          key: keySummary(key),
          value: value.value ?? null,
          warnings: value.warning ? [value.warning] : [],
        };
      }
    } else if (ready?.status === 'False' && SETTLED_REASONS.has(ready.reason)) {
      return {
        key: keySummary(key),
        value: null,
        warnings: [`VirtualKey ${body.namespace}/${name} is not Ready: ${ready.message}.`],
      };
    }
    if (Date.now() >= deadline) {
      const why = ready ? ` (${ready.reason}: ${ready.message})` : '';
      return {
        key: keySummary(key),
        value: null,
        warnings: [
          `VirtualKey ${body.namespace}/${name} was created but is not Ready after ${options.readyTimeoutMs / 1000}s${why}. It stays: GET /api/me/keys shows its state, and its value will be in Secret ${key.status?.secretName ?? name} once Ready.`,
        ],
      };
    }
    if (!(await pause(POLL_MS, options.signal))) {
      return {
        key: keySummary(key),
        value: null,
        warnings: [
          `VirtualKey ${body.namespace}/${name} was created; the request ended before it was Ready.`,
        ],
      };
    }
    key = await kube.getVirtualKey(body.namespace, name);
  }
}

/** Waits `ms`; false (at once) when `signal` is or becomes aborted. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await sleep(ms, undefined, signal && { signal });
    return true;
  } catch (err) {
    if (signal?.aborted) return false;
    throw err;
  }
}

/**
 * The key in the Secret, once the Secret holds the key status.keyId names (the operator
 * records the hash before it writes the Secret, so a Secret read too early is still empty).
 */
async function readValue(
  kube: KubeAsPerson,
  key: VirtualKey,
): Promise<{ value?: string; warning?: string }> {
  const namespace = key.metadata.namespace!;
  const secretName = key.status!.secretName!;
  try {
    const secret = await kube.getSecret(namespace, secretName);
    const data = secret.data?.[key.spec.secret?.apiKeyKey ?? 'OPENAI_API_KEY'];
    if (!data) return {};
    const value = Buffer.from(data, 'base64').toString('utf8');
    return hashKey(value) === key.status!.keyId ? { value } : {};
  } catch (err) {
    if (isNotFound(err)) return {};
    if (isForbidden(err)) {
      return {
        warning: `The key is Ready in Secret ${namespace}/${secretName}, but Kubernetes RBAC does not let you read that Secret, so its value cannot be shown: ${err.message}`,
      };
    }
    throw err;
  }
}

/**
 * `<user>-`, a prefix the API server completes with 5 random characters: a DNS label (the
 * key's Secret gets the same name), so no dots, and at most 63 characters in all.
 */
export function generatedNamePrefix(userName: string): string {
  const base = userName.replace(/\./g, '-').slice(0, 40).replace(/-+$/, '');
  return `${base || 'key'}-`;
}
