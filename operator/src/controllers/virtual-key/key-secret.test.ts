import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { API_VERSION, type VirtualKey } from '../../../../crds/api/index.ts';
import { aVirtualKey } from '../../../../test/fixtures/builders.ts';
import { hashKey } from '../../litellm/hash.ts';
import { FakeKubeClient } from '../../runtime/fake-kube-client.ts';
import type { KeyMaterial } from './key-material.ts';
import {
  desiredSecret,
  isOwnedBy,
  keyValueIn,
  KeySecrets,
  LEGACY_ANNOTATIONS,
  legacyPreviousKey,
  MANAGED_BY_LABEL,
  secretLayout,
  secretUpToDate,
  VIRTUAL_KEY_LABEL,
} from './key-secret.ts';
import { KEY_SECRET_TARGET } from './targets.ts';

const VALUE = 'sk-AAAAbbbbCCCCddddEEEEffff0123456789_-xyz';
const OTHER = 'sk-ZZZZyyyyXXXXwwwwVVVVuuuu9876543210_-abc';
const BASE_URL = 'https://gateway.example.com/v1';
const MINTED = new Date('2026-11-23T10:00:00.000Z');
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const key = (spec: Partial<VirtualKey['spec']> = {}): VirtualKey =>
  aVirtualKey('chatbot')
    .inNamespace('ml-research')
    .with('metadata.uid', 'uid-1')
    .with('spec', { requireAllModels: true, suspended: false, ...spec })
    .build<VirtualKey>();

const material = (previous?: KeyMaterial['previous']): KeyMaterial => ({
  value: VALUE,
  hash: hashKey(VALUE),
  mintedAt: MINTED,
  ...(previous ? { previous } : {}),
});

const secret = (
  data: Record<string, string>,
  annotations: Record<string, string> = {},
  extra: Partial<V1Secret['metadata']> = {},
): V1Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'chatbot', namespace: 'ml-research', annotations, ...extra },
  data,
});

/** What the API server returns: JSON from Go maps, so every map's keys come sorted. */
function asServerReturnsIt(object: V1Secret): V1Secret {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => [k, sorted(v)]),
      );
    }
    return value;
  };
  return sorted(JSON.parse(JSON.stringify(object))) as V1Secret;
}

describe('secretLayout', () => {
  it('defaults to the VirtualKey name and the OpenAI env var names', () => {
    expect(secretLayout(key())).toEqual({
      name: 'chatbot',
      apiKeyKey: 'OPENAI_API_KEY',
      baseUrlKey: 'OPENAI_BASE_URL',
    });
  });

  it('takes spec.secret when set', () => {
    expect(
      secretLayout(key({ secret: { name: 'llm', apiKeyKey: 'API_KEY', baseUrlKey: 'URL' } })),
    ).toEqual({ name: 'llm', apiKeyKey: 'API_KEY', baseUrlKey: 'URL' });
  });
});

describe('keyValueIn', () => {
  const recorded = (value: string, hash = hashKey(value)) => ({ kind: 'recorded', value, hash });

  it('is the recorded key when the value under apiKeyKey hashes to the recorded hash', () => {
    const s = secret({ OPENAI_API_KEY: b64(VALUE), OPENAI_BASE_URL: b64(BASE_URL) });
    expect(keyValueIn(s, 'OPENAI_API_KEY', hashKey(VALUE))).toEqual(recorded(VALUE));
  });

  it('finds the recorded key under another data key (apiKeyKey changed)', () => {
    const s = secret({ OLD_KEY: b64(VALUE), NOTE: b64('hello'), SPARE: b64(OTHER) });
    expect(keyValueIn(s, 'OPENAI_API_KEY', hashKey(VALUE))).toEqual(recorded(VALUE));
    expect(keyValueIn(s, 'OPENAI_API_KEY', hashKey(OTHER))).toEqual(recorded(OTHER));
    // Nothing under apiKeyKey, and no recorded value: nothing there.
    expect(keyValueIn(s, 'OPENAI_API_KEY', undefined)).toEqual({ kind: 'none' });
    expect(keyValueIn(s, 'OPENAI_API_KEY', 'a'.repeat(64))).toEqual({ kind: 'none' });
  });

  it('the recorded value wins over another value under apiKeyKey', () => {
    const s = secret({ OPENAI_API_KEY: b64(OTHER), OLD_KEY: b64(VALUE) });
    expect(keyValueIn(s, 'OPENAI_API_KEY', hashKey(VALUE))).toEqual(recorded(VALUE));
  });

  // Item: key values are always the operator's. A value nobody recorded is never the key,
  // however key-like: a tenant can write a Secret, not status.
  it('a value under apiKeyKey that status did not record is foreign, key-like or not', () => {
    for (const written of [OTHER, 'sk-thirteenchars', 'not-a-key']) {
      const s = secret({ OPENAI_API_KEY: b64(written) });
      expect(keyValueIn(s, 'OPENAI_API_KEY', hashKey(VALUE))).toEqual({
        kind: 'foreign',
        hash: hashKey(written),
      });
      expect(keyValueIn(s, 'OPENAI_API_KEY', undefined).kind).toBe('foreign');
    }
  });

  it('is none for an emptied Secret', () => {
    expect(
      keyValueIn(secret({ OPENAI_API_KEY: b64('') }), 'OPENAI_API_KEY', hashKey(VALUE)),
    ).toEqual({ kind: 'none' });
    expect(keyValueIn(secret({}), 'OPENAI_API_KEY', hashKey(VALUE))).toEqual({ kind: 'none' });
    expect(keyValueIn({ metadata: { name: 'x' } }, 'OPENAI_API_KEY', undefined)).toEqual({
      kind: 'none',
    });
  });

  it('ignores rotation annotations: they are not a record of anything', () => {
    const s = secret(
      { OPENAI_API_KEY: b64(VALUE) },
      Object.fromEntries(LEGACY_ANNOTATIONS.map((a) => [a, hashKey(OTHER)])),
    );
    expect(keyValueIn(s, 'OPENAI_API_KEY', hashKey(OTHER))).toEqual({
      kind: 'foreign',
      hash: hashKey(VALUE),
    });
  });
});

describe('legacyPreviousKey', () => {
  const [, HASH, UNTIL] = LEGACY_ANNOTATIONS;

  it('reads the claim an earlier version wrote, and nothing incomplete', () => {
    const until = '2026-11-23T11:00:00.000Z';
    expect(legacyPreviousKey(secret({}, { [HASH]: 'h', [UNTIL]: until }))).toEqual({
      hash: 'h',
      validUntil: new Date(until),
    });
    expect(legacyPreviousKey(secret({}, { [HASH]: 'h' }))).toBeUndefined();
    expect(legacyPreviousKey(secret({}, { [HASH]: 'h', [UNTIL]: 'soon' }))).toBeUndefined();
    expect(legacyPreviousKey(secret({}))).toBeUndefined();
  });
});

describe('desiredSecret', () => {
  const layout = secretLayout(key());

  it('a new Secret: data, labels, and the VirtualKey as controlling owner', () => {
    const s = desiredSecret(key(), layout, material(), BASE_URL);
    expect(s).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name: 'chatbot',
        namespace: 'ml-research',
        labels: { [MANAGED_BY_LABEL]: 'llm-tenancy', [VIRTUAL_KEY_LABEL]: 'chatbot' },
        annotations: {},
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: 'VirtualKey',
            name: 'chatbot',
            uid: 'uid-1',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      data: { OPENAI_API_KEY: b64(VALUE), OPENAI_BASE_URL: b64(BASE_URL) },
    });
    expect(keyValueIn(s, layout.apiKeyKey, hashKey(VALUE)).kind).toBe('recorded');
  });

  it('uses spec.secret for the name and data keys', () => {
    const k = key({ secret: { name: 'llm', apiKeyKey: 'API_KEY', baseUrlKey: 'URL' } });
    const s = desiredSecret(k, secretLayout(k), material(), BASE_URL);
    expect(s.metadata?.name).toBe('llm');
    expect(s.data).toEqual({ API_KEY: b64(VALUE), URL: b64(BASE_URL) });
    expect(s.metadata?.labels?.[VIRTUAL_KEY_LABEL]).toBe('chatbot');
  });

  it('records no rotation state: that is in status, where tenants cannot write', () => {
    const validUntil = new Date('2026-11-23T11:00:00.000Z');
    const s = desiredSecret(
      key(),
      layout,
      material({ hash: hashKey(OTHER), validUntil }),
      BASE_URL,
    );
    expect(s.metadata?.annotations).toEqual({});
  });

  it('keeps what others added: data, labels, annotations, owners, type, resourceVersion', () => {
    const existing = secret(
      { OPENAI_API_KEY: b64(OTHER), OPENAI_BASE_URL: b64('old'), CA_CERT: b64('pem') },
      { 'example.com/note': 'keep' },
      {
        resourceVersion: '42',
        labels: { team: 'ml', [VIRTUAL_KEY_LABEL]: 'wrong' },
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'uid-cm', controller: false },
        ],
      },
    );
    existing.type = 'kubernetes.io/opaque-custom';
    const s = desiredSecret(key(), layout, material(), BASE_URL, existing);
    expect(s.type).toBe('kubernetes.io/opaque-custom');
    expect(s.metadata?.resourceVersion).toBe('42');
    expect(s.data).toEqual({
      OPENAI_API_KEY: b64(VALUE),
      OPENAI_BASE_URL: b64(BASE_URL),
      CA_CERT: b64('pem'),
    });
    expect(s.metadata?.labels).toEqual({
      team: 'ml',
      [MANAGED_BY_LABEL]: 'llm-tenancy',
      [VIRTUAL_KEY_LABEL]: 'chatbot',
    });
    expect(s.metadata?.annotations).toEqual({ 'example.com/note': 'keep' });
    expect(s.metadata?.ownerReferences?.map((r) => [r.uid, r.controller])).toEqual([
      ['uid-cm', false],
      ['uid-1', true],
    ]);
  });

  it('replaces, not duplicates, an owner reference to this VirtualKey', () => {
    const existing = secret(
      {},
      {},
      {
        ownerReferences: [
          { apiVersion: API_VERSION, kind: 'VirtualKey', name: 'chatbot', uid: 'uid-1' },
        ],
      },
    );
    const refs = desiredSecret(key(), layout, material(), BASE_URL, existing).metadata
      ?.ownerReferences;
    expect(refs).toHaveLength(1);
    expect(refs?.[0]?.controller).toBe(true);
  });

  it('drops the stale copy of the key under a former apiKeyKey', () => {
    const existing = secret({ OLD_KEY: b64(VALUE), OPENAI_BASE_URL: b64(BASE_URL) });
    const k = key({ secret: { apiKeyKey: 'NEW_KEY', baseUrlKey: 'OPENAI_BASE_URL' } });
    const s = desiredSecret(k, secretLayout(k), material(), BASE_URL, existing);
    expect(s.data).toEqual({ NEW_KEY: b64(VALUE), OPENAI_BASE_URL: b64(BASE_URL) });
  });

  it('removes the rotation annotations earlier versions wrote', () => {
    const existing = secret(
      { OPENAI_API_KEY: b64(VALUE) },
      {
        'example.com/note': 'keep',
        ...Object.fromEntries(LEGACY_ANNOTATIONS.map((a) => [a, '2026-01-01T00:00:00.000Z'])),
      },
    );
    const s = desiredSecret(key(), layout, material(), BASE_URL, existing);
    expect(s.metadata?.annotations).toEqual({ 'example.com/note': 'keep' });
  });
});

describe('secretUpToDate', () => {
  const layout = secretLayout(key());
  const desired = desiredSecret(key(), layout, material(), BASE_URL);

  it('is true for the same Secret', () => {
    expect(secretUpToDate(structuredClone(desired), desired)).toBe(true);
  });

  it('ignores server-set metadata (resourceVersion, uid, managedFields)', () => {
    const live = structuredClone(desired);
    live.metadata = { ...live.metadata, resourceVersion: '7', uid: 'secret-uid' };
    expect(secretUpToDate(live, desired)).toBe(true);
  });

  it('is false when the data, annotations, labels or owners differ', () => {
    const changed = (edit: (s: V1Secret) => void) => {
      const s = structuredClone(desired);
      edit(s);
      return secretUpToDate(s, desired);
    };
    expect(changed((s) => (s.data!.OPENAI_API_KEY = b64(OTHER)))).toBe(false);
    expect(changed((s) => delete s.data!.OPENAI_BASE_URL)).toBe(false);
    expect(changed((s) => (s.metadata!.annotations!['example.com/x'] = 'x'))).toBe(false);
    expect(changed((s) => (s.metadata!.labels![VIRTUAL_KEY_LABEL] = 'x'))).toBe(false);
    expect(changed((s) => (s.metadata!.ownerReferences![0]!.controller = false))).toBe(false);
    expect(changed((s) => (s.metadata!.ownerReferences = []))).toBe(false);
  });

  // A converged Secret must not be rewritten on every reconcile: desiredSecret over the
  // Secret as the API server returns it (map keys sorted) must compare as up to date.
  it('a converged Secret, as read back from the API server, is up to date', () => {
    const live = asServerReturnsIt(desired);
    expect(secretUpToDate(live, desiredSecret(key(), layout, material(), BASE_URL, live))).toBe(
      true,
    );
  });

  it('desiredSecret over its own result is up to date (idempotent)', () => {
    const again = desiredSecret(key(), layout, material(), BASE_URL, desired);
    expect(secretUpToDate(desired, again)).toBe(true);
  });
});

describe('isOwnedBy', () => {
  const ref = (uid: string, controller: boolean | undefined, kind = 'VirtualKey') => ({
    apiVersion: API_VERSION,
    kind,
    name: 'chatbot',
    uid,
    ...(controller === undefined ? {} : { controller }),
  });
  const withRefs = (...refs: ReturnType<typeof ref>[]) => secret({}, {}, { ownerReferences: refs });

  it('true only for a controlling VirtualKey reference with this uid', () => {
    expect(isOwnedBy(withRefs(ref('uid-1', true)), key())).toBe(true);
    expect(isOwnedBy(withRefs(ref('uid-0', false), ref('uid-1', true)), key())).toBe(true);
    expect(isOwnedBy(withRefs(ref('uid-2', true)), key())).toBe(false);
    expect(isOwnedBy(withRefs(ref('uid-1', false)), key())).toBe(false);
    expect(isOwnedBy(withRefs(ref('uid-1', undefined)), key())).toBe(false);
    expect(isOwnedBy(withRefs(ref('uid-1', true, 'ConfigMap')), key())).toBe(false);
    expect(isOwnedBy(secret({}), key())).toBe(false);
  });

  it('what desiredSecret writes is owned by the key', () => {
    expect(isOwnedBy(desiredSecret(key(), secretLayout(key()), material(), BASE_URL), key())).toBe(
      true,
    );
  });
});

describe('KeySecrets against the fake client', () => {
  const SECRET = { apiVersion: 'v1', kind: 'Secret' };
  const labelled = {
    ...SECRET,
    metadata: {
      name: 'chatbot',
      namespace: 'ns',
      labels: { [MANAGED_BY_LABEL]: 'llm-tenancy', [VIRTUAL_KEY_LABEL]: 'chatbot' },
    },
    data: { OPENAI_API_KEY: Buffer.from('sk-1').toString('base64') },
  };
  const foreign = { ...SECRET, metadata: { name: 'taken', namespace: 'ns' }, data: {} };

  it('reads labelled Secrets through the cache and any other by name', async () => {
    const kube = new FakeKubeClient({ objects: [labelled, foreign] });
    const secrets = new KeySecrets(kube, KEY_SECRET_TARGET);
    expect((await secrets.read('ns', 'chatbot'))?.data).toEqual(labelled.data);
    expect((await secrets.read('ns', 'taken'))?.metadata?.name).toBe('taken');
    expect(await secrets.read('ns', 'none')).toBeUndefined();
  });

  it('returns the Secret that appeared meanwhile instead of creating a second one', async () => {
    const kube = new FakeKubeClient({ objects: [foreign] });
    const secrets = new KeySecrets(kube, KEY_SECRET_TARGET);
    const { created, secret } = await secrets.create({ ...foreign, data: { x: 'eQ==' } });
    expect(created).toBe(false);
    expect(secret.data).toEqual({});
  });

  it('deletes only the Secret with the uid it was given', async () => {
    const kube = new FakeKubeClient();
    const stored = kube.seed<V1Secret>(foreign);
    const secrets = new KeySecrets(kube, KEY_SECRET_TARGET);
    await secrets.delete('ns', 'taken', 'another-uid');
    expect(await kube.read(SECRET, { namespace: 'ns', name: 'taken' })).toBeDefined();
    await secrets.delete('ns', 'taken', stored.metadata!.uid!);
    expect(await kube.read(SECRET, { namespace: 'ns', name: 'taken' })).toBeUndefined();
    await secrets.delete('ns', 'taken', stored.metadata!.uid!); // gone: nothing to do
  });
});
