// Where a VirtualKey's key values live, and the order they are written in: status records
// which value is the key (its hash, when it was minted, the previous key), the Secret holds
// the value itself. A new value is recorded in status FIRST, then written to the Secret, then
// (by the reconciler) registered in LiteLLM (crossplane-runtime's "create pending" shape): a
// crash at any point leaves the Secret holding either a recorded value or nothing new, so a
// value the operator did not record is never one it made, and is never used.
import type { V1Secret } from '@kubernetes/client-node';
import type { VirtualKey } from '../../../../crds/api/index.ts';
import { getCondition } from '../../runtime/conditions.ts';
import type { KubeClient } from '../../runtime/kube-client.ts';
import type { StatusWriter } from '../../runtime/status.ts';
import type { KeyMaterial, RecordedKeys, SecretValue } from './key-material.ts';
import {
  desiredSecret,
  isOwnedBy,
  keyValueIn,
  KeySecrets,
  secretUpToDate,
  type SecretLayout,
} from './key-secret.ts';
import { recordedKeys, recordKeys } from './key-status.ts';
import { VIRTUAL_KEY_RESOURCE } from '../shared/kinds.ts';
import { KEY_SECRET_TARGET } from './targets.ts';

/** What a VirtualKey's Secret holds, as last read or written. */
export type SecretRead =
  | { secret: V1Secret | undefined; found: SecretValue }
  /** A Secret of that name exists and is not this VirtualKey's: never written. */
  | 'unavailable';

/** The Ready reason of a VirtualKey whose Secret name is someone else's Secret. */
export const SECRET_CONFLICT = 'SecretConflict';

/**
 * Create found a Secret of the key's name that is not this VirtualKey's (the cache holds
 * only the operator's labelled Secrets, so it did not know). `key` is the VirtualKey as
 * written once the minted value was taken out of status again.
 */
export class SecretNameTakenError extends Error {
  override readonly name = 'SecretNameTakenError';
  key: VirtualKey | undefined;
  constructor(secretName: string) {
    super(`Secret ${secretName} exists and is not this VirtualKey's`);
  }
}

export class KeyValues {
  readonly #secrets: KeySecrets;
  readonly #status: StatusWriter;
  readonly #gatewayUrl: string;

  constructor(kube: KubeClient, options: { status: StatusWriter; gatewayUrl: string }) {
    this.#secrets = new KeySecrets(kube, KEY_SECRET_TARGET);
    this.#status = options.status;
    this.#gatewayUrl = options.gatewayUrl;
  }

  /**
   * The Secret and what it holds, judged against `recorded`. With no Secret of the name,
   * the recorded key in the Secret of a former spec.secret.name moves to the new one.
   */
  async read(key: VirtualKey, layout: SecretLayout, recorded: RecordedKeys): Promise<SecretRead> {
    // With no key recorded there is no value of ours to find: the cache's word that there is
    // no Secret is enough (someone else's of that name shows as a 409 on create, see write),
    // unless status already says the name is taken.
    const taken = getCondition(key.status?.conditions, 'Ready')?.reason === SECRET_CONFLICT;
    const secret = await this.#secrets.read(key.metadata.namespace!, layout.name, {
      live: recorded.current !== undefined || taken,
    });
    if (secret && !isOwnedBy(secret, key)) return 'unavailable';
    if (secret)
      return { secret, found: keyValueIn(secret, layout.apiKeyKey, recorded.current?.hash) };
    return (await this.#carriedOver(key, layout, recorded)) ?? { secret, found: { kind: 'none' } };
  }

  /** Records `material` as the key's values in status, then writes it to the Secret. */
  async mint(
    key: VirtualKey,
    layout: SecretLayout,
    material: KeyMaterial,
    secret: V1Secret | undefined,
  ): Promise<{ key: VirtualKey; secret: V1Secret }> {
    const recorded = await this.record(key, {
      current: { hash: material.hash, mintedAt: material.mintedAt },
      previous: material.previous,
    });
    try {
      return { key: recorded, secret: await this.write(recorded, layout, material, secret) };
    } catch (err) {
      if (!(err instanceof SecretNameTakenError)) throw err;
      // The value was never written: status records again what it did before.
      err.key = await this.record(recorded, recordedKeys(key.status));
      throw err;
    }
  }

  /** Writes `recorded` into status; returns the VirtualKey as written. */
  async record(key: VirtualKey, recorded: RecordedKeys): Promise<VirtualKey> {
    const written = await this.#status.update(VIRTUAL_KEY_RESOURCE, key, (current) =>
      recordKeys(current, recorded),
    );
    if (written.outcome === 'gone') throw new Error('the VirtualKey was deleted meanwhile');
    return written.object;
  }

  /**
   * Writes the Secret for `material` (a recorded value) unless it already says exactly that.
   * `current` is the Secret as last read or written (undefined: there is none), so no write
   * reads again.
   */
  async write(
    key: VirtualKey,
    layout: SecretLayout,
    material: Pick<KeyMaterial, 'value'>,
    current: V1Secret | undefined,
  ): Promise<V1Secret> {
    const desired = desiredSecret(key, layout, material, this.#gatewayUrl, current);
    if (!current) {
      const { created, secret } = await this.#secrets.create(desired);
      // A Secret of that name that is not this VirtualKey's: never written.
      if (!created && !isOwnedBy(secret, key)) throw new SecretNameTakenError(layout.name);
      // Ours, written meanwhile (a stale cache, another replica): start over.
      if (!created) throw new Error(`Secret ${layout.name} appeared meanwhile; retrying`);
      return secret;
    }
    if (secretUpToDate(current, desired)) return current;
    return this.#secrets.replace(desired);
  }

  /** True when `current` already says exactly what write would write for `material`. */
  secretUpToDate(
    key: VirtualKey,
    layout: SecretLayout,
    material: Pick<KeyMaterial, 'value'>,
    current: V1Secret | undefined,
  ): boolean {
    if (!current) return false;
    return secretUpToDate(current, desiredSecret(key, layout, material, this.#gatewayUrl, current));
  }

  /**
   * A key whose Secret was renamed (spec.secret.name changed) moves to the new Secret with
   * its value; the old Secret is deleted after the new one is written.
   */
  async #carriedOver(
    key: VirtualKey,
    layout: SecretLayout,
    recorded: RecordedKeys,
  ): Promise<{ secret: V1Secret; found: SecretValue } | undefined> {
    const former = key.status?.secretName;
    if (!former || former === layout.name || !recorded.current) return undefined;
    const old = await this.#secrets.read(key.metadata.namespace!, former);
    if (!old || !isOwnedBy(old, key)) return undefined;
    const found = keyValueIn(old, layout.apiKeyKey, recorded.current.hash);
    if (found.kind !== 'recorded') return undefined;
    // Called only when the Secret of the new name does not exist.
    const secret = await this.write(key, layout, found, undefined);
    await this.#secrets.delete(key.metadata.namespace!, former, old.metadata!.uid!);
    return { secret, found };
  }
}
