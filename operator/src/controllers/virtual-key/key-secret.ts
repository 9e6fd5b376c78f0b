// The Secret a VirtualKey's key lives in: written BEFORE the key is registered in LiteLLM (and
// after the key's hash is recorded in status), so a crash at any point leaves either no
// Secret, or a Secret whose recorded value LiteLLM does not know yet (the next reconcile
// registers that same value): never a key nobody holds, never a second key for one Secret.
//
//   data           <apiKeyKey>: the key, <baseUrlKey>: the gateway's URL
//   labels         app.kubernetes.io/managed-by=llm-tenancy, llmtenancy.dev/virtual-key=<name>
//   ownerReference the VirtualKey (controller), so Kubernetes deletes the Secret with it
//
// The Secret is not a record of anything: whoever may edit the namespace may write it, so
// its value counts only when it hashes to the key status recorded (keyValueIn), and rotation
// state lives in status. The annotations older versions kept rotation state in are removed.
//
// Reads come from the cache of labelled Secrets (KubeClient.get: the Secret as last read or
// written at the resourceVersion the cache holds), so a converged key costs no request; a
// Secret the cache does not hold (none yet, or one the operator did not label) is read live.
// Every write carries the resourceVersion read, so a stale copy fails with 409 and the
// reconcile is retried from the fresh cache.
import { isDeepStrictEqual } from 'node:util';
import type { V1Secret } from '@kubernetes/client-node';
import { API_VERSION, type VirtualKey } from '../../../../crds/api/index.ts';
import { hashKey } from '../../litellm/hash.ts';
import type { ResourceType } from '../../runtime/discovery.ts';
import type { InformerTarget } from '../../runtime/informer-factory.ts';
import { isConflict, isNotFound, type KubeClient } from '../../runtime/kube-client.ts';
import type { KeyMaterial, PreviousKey, SecretValue } from './key-material.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const VIRTUAL_KEY_LABEL = 'llmtenancy.dev/virtual-key';
const LEGACY_PREVIOUS_HASH = 'llmtenancy.dev/previous-key-hash';
const LEGACY_PREVIOUS_VALID_UNTIL = 'llmtenancy.dev/previous-key-valid-until';
/** Where earlier versions kept rotation state; removed from a Secret on its next write. */
export const LEGACY_ANNOTATIONS = [
  'llmtenancy.dev/minted-at',
  LEGACY_PREVIOUS_HASH,
  LEGACY_PREVIOUS_VALID_UNTIL,
] as const;

/**
 * The previous key an earlier version named in the Secret's annotations, as a claim only:
 * anyone who may edit the Secret may have written it, so the caller acts on it only when
 * LiteLLM says the key is this VirtualKey's own, and for at most one grace period.
 */
export function legacyPreviousKey(secret: V1Secret): PreviousKey | undefined {
  const annotations = secret.metadata?.annotations ?? {};
  const hash = annotations[LEGACY_PREVIOUS_HASH];
  const validUntil = Date.parse(annotations[LEGACY_PREVIOUS_VALID_UNTIL] ?? '');
  return hash && !Number.isNaN(validUntil) ? { hash, validUntil: new Date(validUntil) } : undefined;
}

export interface SecretLayout {
  name: string;
  apiKeyKey: string;
  baseUrlKey: string;
}

export function secretLayout(key: Pick<VirtualKey, 'metadata' | 'spec'>): SecretLayout {
  return {
    name: key.spec.secret?.name ?? key.metadata.name!,
    apiKeyKey: key.spec.secret?.apiKeyKey ?? 'OPENAI_API_KEY',
    baseUrlKey: key.spec.secret?.baseUrlKey ?? 'OPENAI_BASE_URL',
  };
}

export function isOwnedBy(secret: V1Secret, key: Pick<VirtualKey, 'metadata'>): boolean {
  return (secret.metadata?.ownerReferences ?? []).some(
    (ref) => ref.controller === true && ref.kind === 'VirtualKey' && ref.uid === key.metadata.uid,
  );
}

const decode = (data: string | undefined) =>
  data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/**
 * What the Secret holds: the recorded key (under `apiKeyKey` or, after apiKeyKey changed in
 * the spec, under any data key), else whatever is under `apiKeyKey`, which the operator did
 * not make, else nothing.
 */
export function keyValueIn(
  secret: V1Secret,
  apiKeyKey: string,
  recordedHash: string | undefined,
): SecretValue {
  const values = [secret.data?.[apiKeyKey], ...Object.values(secret.data ?? {})]
    .map(decode)
    .filter((v): v is string => v !== undefined && v !== '');
  const recorded = recordedHash && values.find((v) => hashKey(v) === recordedHash);
  if (recorded) return { kind: 'recorded', value: recorded, hash: recordedHash };
  const written = decode(secret.data?.[apiKeyKey]);
  return written ? { kind: 'foreign', hash: hashKey(written) } : { kind: 'none' };
}

/** The Secret for `material`, keeping what others added to an existing one (labels, data). */
export function desiredSecret(
  key: Pick<VirtualKey, 'metadata' | 'spec'>,
  layout: SecretLayout,
  material: Pick<KeyMaterial, 'value'>,
  baseUrl: string,
  existing?: V1Secret,
): V1Secret {
  const annotations: Record<string, string> = { ...existing?.metadata?.annotations };
  for (const legacy of LEGACY_ANNOTATIONS) delete annotations[legacy];
  // Our two data keys, minus a copy of this key under a former apiKeyKey; others' data stays.
  const data: Record<string, string> = {};
  for (const [name, value] of Object.entries(existing?.data ?? {})) {
    if (decode(value) !== material.value) data[name] = value;
  }
  data[layout.apiKeyKey] = encode(material.value);
  data[layout.baseUrlKey] = encode(baseUrl);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: existing?.type ?? 'Opaque',
    metadata: {
      ...(existing?.metadata ?? {}),
      name: layout.name,
      namespace: key.metadata.namespace,
      labels: {
        ...existing?.metadata?.labels,
        [MANAGED_BY_LABEL]: 'llm-tenancy',
        [VIRTUAL_KEY_LABEL]: key.metadata.name!,
      },
      annotations,
      ownerReferences: [
        ...(existing?.metadata?.ownerReferences ?? []).filter((r) => r.uid !== key.metadata.uid),
        {
          apiVersion: API_VERSION,
          kind: 'VirtualKey',
          name: key.metadata.name!,
          uid: key.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    data,
  };
}

/** True when writing `desired` over `existing` would change nothing that matters. */
export function secretUpToDate(existing: V1Secret, desired: V1Secret): boolean {
  // The API server returns maps with sorted keys: compare contents, not key order.
  const same = (a: unknown, b: unknown) => isDeepStrictEqual(a ?? {}, b ?? {});
  return (
    same(existing.data, desired.data) &&
    same(existing.metadata?.annotations, desired.metadata?.annotations) &&
    same(existing.metadata?.labels, desired.metadata?.labels) &&
    isSameOwners(existing, desired)
  );
}

function isSameOwners(a: V1Secret, b: V1Secret): boolean {
  const uids = (s: V1Secret) =>
    (s.metadata?.ownerReferences ?? [])
      .map((r) => `${r.uid}:${String(r.controller)}`)
      .sort()
      .join(',');
  return uids(a) === uids(b);
}

const SECRET: ResourceType = {
  apiVersion: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
};

/** Cached reads and optimistic writes of key Secrets. */
export class KeySecrets {
  readonly #kube: KubeClient;
  readonly #cache: InformerTarget;

  /** `cache`: the metadata-only informer of the Secrets the operator labels. */
  constructor(kube: KubeClient, cache: InformerTarget) {
    this.#kube = kube;
    this.#cache = cache;
  }

  /**
   * The Secret, from the cache. Not in the cache: none yet (or the cache is behind), or
   * someone else's of that name; read live unless `live` is false (the caller tells such a
   * Secret apart by the 409 of its create).
   */
  async read(
    namespace: string,
    name: string,
    options: { live?: boolean } = {},
  ): Promise<V1Secret | undefined> {
    const ref = { namespace, name };
    const cached = await this.#kube.get<V1Secret>(this.#cache, ref);
    if (cached || options.live === false) return cached;
    return this.#kube.read<V1Secret>(SECRET, ref);
  }

  /** Creates `secret`; when one appeared meanwhile, returns that one instead (the caller re-checks). */
  async create(secret: V1Secret): Promise<{ created: boolean; secret: V1Secret }> {
    const namespace = secret.metadata!.namespace!;
    try {
      return { created: true, secret: await this.#kube.create(SECRET, secret) };
    } catch (err) {
      if (!isConflict(err)) throw err;
      const live = await this.#kube.read<V1Secret>(SECRET, {
        namespace,
        name: secret.metadata!.name!,
      });
      if (!live) throw err;
      return { created: false, secret: live };
    }
  }

  /** Replaces `secret` at its resourceVersion: 409 when someone wrote it since it was read. */
  async replace(secret: V1Secret): Promise<V1Secret> {
    return this.#kube.replace(SECRET, secret);
  }

  /** Deletes the Secret if it is still the one with `uid`. */
  async delete(namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.#kube.delete(SECRET, { namespace, name }, { preconditions: { uid } });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}
