// The Secret a VirtualKey's key lives in: written BEFORE the key is registered in LiteLLM, so
// the Secret is the durable record of the key value and its rotation state. A crash at any
// point leaves either no Secret (nothing minted), or a Secret whose value LiteLLM does not
// know yet (the next reconcile registers that same value): never a key nobody holds, never
// a second key for one Secret.
//
//   data           <apiKeyKey>: the key, <baseUrlKey>: the gateway's URL
//   labels         app.kubernetes.io/managed-by=llm-tenancy, llmtenancy.dev/virtual-key=<name>
//   annotations    llmtenancy.dev/minted-at, and during a rotation's grace period
//                  llmtenancy.dev/previous-key-hash + llmtenancy.dev/previous-key-valid-until
//   ownerReference the VirtualKey (controller), so Kubernetes deletes the Secret with it
//
// Reads go to the API server, not the cache: the value and rotation state must be the latest
// written, and a write carries the resourceVersion read, so a stale copy fails with 409.
import { isDeepStrictEqual } from 'node:util';
import { ApiException, CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { API_VERSION, type VirtualKey } from '../../../../crds/api/index.ts';
import { hashKey } from '../../litellm/hash.ts';
import { isKeyValue, type KeyMaterial } from './key-material.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const VIRTUAL_KEY_LABEL = 'llmtenancy.dev/virtual-key';
export const MINTED_AT = 'llmtenancy.dev/minted-at';
export const PREVIOUS_KEY_HASH = 'llmtenancy.dev/previous-key-hash';
export const PREVIOUS_VALID_UNTIL = 'llmtenancy.dev/previous-key-valid-until';

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
 * The key material a Secret holds: the value under `apiKeyKey` or, after apiKeyKey changed
 * in the spec, under any data key whose value hashes to `knownHash`. Undefined when the
 * Secret holds no usable key (emptied or edited by hand).
 */
export function materialOf(
  secret: V1Secret,
  apiKeyKey: string,
  knownHash?: string,
): KeyMaterial | undefined {
  let value = decode(secret.data?.[apiKeyKey]);
  if (!isKeyValue(value) && knownHash) {
    value = Object.values(secret.data ?? {})
      .map(decode)
      .find((v) => isKeyValue(v) && hashKey(v) === knownHash);
  }
  if (!isKeyValue(value)) return undefined;
  const annotations = secret.metadata?.annotations ?? {};
  const minted = Date.parse(annotations[MINTED_AT] ?? '');
  const previousHash = annotations[PREVIOUS_KEY_HASH];
  const validUntil = Date.parse(annotations[PREVIOUS_VALID_UNTIL] ?? '');
  return {
    value,
    hash: hashKey(value),
    mintedAt: new Date(Number.isNaN(minted) ? 0 : minted),
    ...(previousHash && !Number.isNaN(validUntil)
      ? { previous: { hash: previousHash, validUntil: new Date(validUntil) } }
      : {}),
  };
}

/** The Secret for `material`, keeping what others added to an existing one (labels, data). */
export function desiredSecret(
  key: Pick<VirtualKey, 'metadata' | 'spec'>,
  layout: SecretLayout,
  material: KeyMaterial,
  baseUrl: string,
  existing?: V1Secret,
): V1Secret {
  const annotations: Record<string, string> = { ...existing?.metadata?.annotations };
  annotations[MINTED_AT] = material.mintedAt.toISOString();
  delete annotations[PREVIOUS_KEY_HASH];
  delete annotations[PREVIOUS_VALID_UNTIL];
  if (material.previous) {
    annotations[PREVIOUS_KEY_HASH] = material.previous.hash;
    annotations[PREVIOUS_VALID_UNTIL] = material.previous.validUntil.toISOString();
  }
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

/** Live reads and optimistic writes of key Secrets. */
export class KeySecrets {
  readonly #api: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.#api = kc.makeApiClient(CoreV1Api);
  }

  async read(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.#api.readNamespacedSecret({ namespace, name });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  /** Creates `secret`; when one appeared meanwhile, returns that one instead (the caller re-checks). */
  async create(secret: V1Secret): Promise<{ created: boolean; secret: V1Secret }> {
    const namespace = secret.metadata!.namespace!;
    try {
      return {
        created: true,
        secret: await this.#api.createNamespacedSecret({ namespace, body: secret }),
      };
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409)) throw err;
      const live = await this.read(namespace, secret.metadata!.name!);
      if (!live) throw err;
      return { created: false, secret: live };
    }
  }

  /** Replaces `secret` at its resourceVersion: 409 when someone wrote it since it was read. */
  async replace(secret: V1Secret): Promise<V1Secret> {
    return this.#api.replaceNamespacedSecret({
      namespace: secret.metadata!.namespace!,
      name: secret.metadata!.name!,
      body: secret,
    });
  }

  /** Deletes the Secret if it is still the one with `uid`. */
  async delete(namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.#api.deleteNamespacedSecret({
        namespace,
        name,
        body: { preconditions: { uid } },
      });
    } catch (err) {
      if (err instanceof ApiException && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }
}
