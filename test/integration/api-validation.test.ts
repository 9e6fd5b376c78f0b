// The API rejects bad input at `kubectl apply` time with a message a user understands.
// Every case starts from a valid object and changes one thing (test/fixtures/builders.ts).
import {
  ApiException,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { GROUP, kinds, VERSION } from '../../crds/api/index.ts';
import {
  aModelSubscription,
  aTeam,
  aUser,
  aVirtualKey,
  type ManifestBuilder,
} from '../fixtures/builders.ts';
import { kubeConfigFromInject, uniqueNamespace } from '../harness/kube.ts';

let client: KubernetesObjectApi;
let customObjects: CustomObjectsApi;
let namespace: string;

beforeAll(async () => {
  const kc = kubeConfigFromInject();
  client = KubernetesObjectApi.makeApiClient(kc);
  customObjects = kc.makeApiClient(CustomObjectsApi);
  namespace = await uniqueNamespace('validation');
});

/**
 * The apiserver's Status message for a rejected create (dry run, strict field validation as
 * kubectl does it), or undefined when it was accepted.
 */
async function rejection(manifest: ManifestBuilder): Promise<string | undefined> {
  const body = manifest.build<KubernetesObject>();
  const def = kinds.find((k) => k.kind === body.kind)!;
  const common = {
    group: GROUP,
    version: VERSION,
    plural: def.plural,
    body,
    dryRun: 'All',
    fieldValidation: 'Strict',
  };
  try {
    if (def.scope === 'Namespaced') {
      await customObjects.createNamespacedCustomObject({ ...common, namespace });
    } else {
      await customObjects.createClusterCustomObject(common);
    }
    return undefined;
  } catch (err) {
    return statusMessage(err);
  }
}

function statusMessage(err: unknown): string {
  if (!(err instanceof ApiException)) throw err;
  const body: unknown = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
  return (body as { message?: string }).message ?? String(err.body);
}

const longName = 'x'.repeat(64);

// [what is wrong, manifest, a fragment of the message the user sees]
const invalid: [string, ManifestBuilder, string][] = [
  // Team
  ['team name is not a DNS label', aTeam('team.with.dots'), 'Team names must be DNS labels'],
  ['team name longer than 63', aTeam().named(longName), 'Team names must be DNS labels'],
  [
    'namespace name with capitals',
    aTeam().with('spec.namespaces', ['Team-A']),
    'spec.namespaces[0]: Invalid value',
  ],
  ['namespace listed twice', aTeam().with('spec.namespaces', ['a', 'a']), 'Duplicate value: "a"'],
  [
    'gateway route group that does not exist',
    aTeam().with('spec.gateway', { enabledRoutes: ['files', 'admin'] }),
    'spec.gateway.enabledRoutes[1]: Unsupported value: "admin"',
  ],
  [
    'gateway route group listed twice',
    aTeam().with('spec.gateway', { enabledRoutes: ['files', 'files'] }),
    'Duplicate value: "files"',
  ],
  [
    'member role unknown',
    aTeam().with('spec.members', [{ user: 'alice', role: 'owner' }]),
    'supported values: "admin", "member"',
  ],
  [
    'member listed twice',
    aTeam().with('spec.members', [{ user: 'alice' }, { user: 'alice', role: 'admin' }]),
    'spec.members[1]: Duplicate value: {"user":"alice"}',
  ],
  [
    'member without user',
    aTeam().with('spec.members', [{ role: 'admin' }]),
    'spec.members[0].user: Required value',
  ],
  [
    'member name invalid',
    aTeam().with('spec.members', [{ user: 'Alice Smith' }]),
    'spec.members[0].user: Invalid value',
  ],
  [
    "'*' combined with model names",
    aTeam().with('spec.models', ['*', 'granite-3-8b']),
    "'*' already allows every model; list it alone",
  ],
  ['empty model name', aTeam().with('spec.models', ['']), 'spec.models[0]: Invalid value'],
  [
    'model name with a space',
    aTeam().with('spec.models', ['granite 3']),
    'spec.models[0]: Invalid value',
  ],
  [
    'budget that is not a number',
    aTeam().with('spec.limits.maxBudget', 'lots'),
    'spec.limits.maxBudget: Invalid value: "lots"',
  ],
  [
    'budget given as a YAML float (not exact: it must be quoted)',
    aTeam().with('spec.limits.maxBudget', 12.5),
    'spec.limits.maxBudget in body must be of type integer,string: "number"',
  ],
  [
    'budget given as a negative whole number',
    aTeam().with('spec.limits.maxBudget', -5),
    'spec.limits.maxBudget: Invalid value: -5',
  ],
  [
    'budget given as a whole number over 12 digits',
    aTeam().with('spec.limits.maxBudget', 1_000_000_000_000),
    'spec.limits.maxBudget: Invalid value: 1000000000000',
  ],
  [
    'negative budget',
    aTeam().with('spec.limits.maxBudget', '-5'),
    'spec.limits.maxBudget: Invalid value: "-5"',
  ],
  [
    'budget period in words',
    aTeam().with('spec.limits', { maxBudget: '5', budgetDuration: '30 days' }),
    'spec.limits.budgetDuration: Invalid value: "30 days"',
  ],
  [
    'budget period without a budget',
    aTeam().with('spec.limits.budgetDuration', '30d'),
    'budgetDuration needs maxBudget',
  ],
  ['negative tpm', aTeam().with('spec.limits.tpm', -1), 'spec.limits.tpm: Invalid value: -1'],
  [
    'fractional rpm',
    aTeam().with('spec.limits.rpm', 1.5),
    'spec.limits.rpm: Invalid value: "number"',
  ],
  [
    'deletionPolicy unknown',
    aTeam().with('spec.deletionPolicy', 'Keep'),
    'supported values: "Delete", "Orphan"',
  ],
  [
    'membershipMode unknown',
    aTeam().with('spec.membershipMode', 'Merge'),
    'supported values: "Authoritative", "Additive"',
  ],
  ['empty group name', aTeam().with('spec.groups', ['']), 'spec.groups[0]: Invalid value'],
  [
    'too many namespaces',
    aTeam().with(
      'spec.namespaces',
      Array.from({ length: 65 }, (_, i) => `ns-${i}`),
    ),
    'spec.namespaces: Too many: 65: must have at most 64 items',
  ],
  ['no spec at all', aTeam().without('spec'), 'spec: Required value'],
  [
    'a misspelled field',
    aTeam().with('spec.modles', ['granite-3-8b']),
    'unknown field "spec.modles"',
  ],
  // User
  [
    'role unknown',
    aUser().with('spec.role', 'superuser'),
    'supported values: "admin", "manager", "user", "viewer"',
  ],
  ['email without @', aUser().with('spec.email', 'alice.example.com'), 'spec.email: Invalid value'],
  [
    'issuer not a URL',
    aUser().with('spec.identity', { issuer: 'dex', subject: '123' }),
    'spec.identity.issuer: Invalid value',
  ],
  [
    'identity without subject',
    aUser().with('spec.identity', { issuer: 'https://dex.example.com' }),
    'spec.identity.subject: Required value',
  ],
  [
    'user budget period in words',
    aUser().with('spec.limits', { maxBudget: '1', budgetDuration: 'monthly' }),
    'spec.limits.budgetDuration: Invalid value',
  ],
  // ModelSubscription
  [
    'subscription without a model',
    aModelSubscription().without('spec.model'),
    'spec.model: Required value',
  ],
  [
    'subscription model with white space',
    aModelSubscription().with('spec.model', 'granite 3 8b'),
    'spec.model: Invalid value',
  ],
  [
    'negative parallel requests',
    aModelSubscription().with('spec.limits.maxParallelRequests', -2),
    'spec.limits.maxParallelRequests: Invalid value: -2',
  ],
  [
    'suspended is not a boolean',
    aModelSubscription().with('spec.suspended', 'yes'),
    'spec.suspended: Invalid value: "string"',
  ],
  // VirtualKey
  [
    'both expiresAt and duration',
    aVirtualKey().with('spec.expiresAt', '2030-01-01T00:00:00Z').with('spec.duration', '30d'),
    'set either expiresAt or duration, not both',
  ],
  [
    'expiresAt not a timestamp',
    aVirtualKey().with('spec.expiresAt', 'next tuesday'),
    'spec.expiresAt: Invalid value: "next tuesday"',
  ],
  [
    'duration with an unknown unit',
    aVirtualKey().with('spec.duration', '3y'),
    'spec.duration: Invalid value: "3y"',
  ],
  [
    'duration of zero',
    aVirtualKey().with('spec.duration', '0d'),
    'spec.duration: Invalid value: "0d"',
  ],
  [
    'rotation more often than hourly',
    aVirtualKey().with('spec.rotation', { every: '30m', gracePeriod: '5m' }),
    'rotation.every must be at least 1h',
  ],
  [
    'grace period as long as the rotation',
    aVirtualKey().with('spec.rotation', { every: '1d', gracePeriod: '24h' }),
    'rotation.gracePeriod must be shorter than rotation.every',
  ],
  [
    'a rotation request that is not a time',
    aVirtualKey().with('spec.rotation', { gracePeriod: '1h', requestedAt: 'now' }),
    'spec.rotation.requestedAt',
  ],
  ["'*' as a key model", aVirtualKey().with('spec.models', ['*']), "'*' is not a model name"],
  [
    'a key model listed twice',
    aVirtualKey().with('spec.models', ['m', 'm']),
    'spec.models[1]: Duplicate value: "m"',
  ],
  [
    'softBudget above maxBudget',
    aVirtualKey().with('spec.limits', { maxBudget: '10', softBudget: '12.5' }),
    'softBudget must not exceed maxBudget',
  ],
  [
    'softBudget above a whole-number maxBudget',
    aVirtualKey().with('spec.limits', { maxBudget: 10, softBudget: '12.5' }),
    'softBudget must not exceed maxBudget',
  ],
  [
    'secret name invalid',
    aVirtualKey().with('spec.secret.name', 'My_Secret'),
    'spec.secret.name: Invalid value',
  ],
  [
    'secret data key invalid',
    aVirtualKey().with('spec.secret.apiKeyKey', 'API KEY'),
    'spec.secret.apiKeyKey: Invalid value',
  ],
  [
    'both secret data keys equal',
    aVirtualKey().with('spec.secret', { apiKeyKey: 'KEY', baseUrlKey: 'KEY' }),
    'apiKeyKey and baseUrlKey must differ',
  ],
  [
    'user name invalid',
    aVirtualKey().with('spec.user', 'Alice@Example'),
    'spec.user: Invalid value',
  ],
];

describe('invalid manifests are rejected at apply time with a clear message', () => {
  it('the table is large enough to mean something', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(30);
  });

  it.each(invalid)('%s', async (_what, manifest, expected) => {
    const message = await rejection(manifest);
    expect(message, 'the apiserver accepted it').toBeDefined();
    expect(message).toContain(expected);
  });

  it('the valid starting points of the table are accepted', async () => {
    for (const manifest of [
      aTeam('starting-point'),
      aTeam('enabling-routes').with('spec.gateway', { enabledRoutes: ['files', 'batches', 'mcp'] }),
      aUser('starting-point'),
      aModelSubscription(),
      aVirtualKey(),
      // A rotation asked for, without a schedule (kubectl llm key rotate on such a key).
      aVirtualKey('rotate-now').with('spec.rotation', { requestedAt: '2026-12-02T10:00:00Z' }),
    ]) {
      expect(await rejection(manifest)).toBeUndefined();
    }
  });
});

describe('money as people write it', () => {
  it('takes whole dollars as a number and keeps every amount exactly as written', async () => {
    const team = aTeam('whole-dollars')
      .with('spec.limits.maxBudget', 100)
      .build<KubernetesObject>();
    const key = aVirtualKey('mixed-money')
      .with('spec.limits', { maxBudget: 250, softBudget: '199.999999' })
      .build<KubernetesObject>();
    key.metadata!.namespace = namespace;
    const storedTeam = await client.create(team);
    const storedKey = await client.create(key);
    try {
      expect((storedTeam as { spec: { limits: object } }).spec.limits).toMatchObject({
        maxBudget: 100,
      });
      expect((storedKey as { spec: { limits: object } }).spec.limits).toMatchObject({
        maxBudget: 250,
        softBudget: '199.999999',
      });
    } finally {
      await client.delete(storedKey);
      await client.delete(storedTeam);
    }
  });

  it('refuses a float with the field it is in and the types it takes', async () => {
    // The apiserver checks types before any rule of ours runs, so its own words are what
    // kubectl shows; the field's description (kubectl explain) and README say to quote it.
    const message = await rejection(aUser('float-budget').with('spec.limits.maxBudget', 0.1));
    expect(message).toContain('spec.limits.maxBudget in body must be of type integer,string');
  });
});

describe('rules that look at the previous version', () => {
  it('a ModelSubscription cannot change its model', async () => {
    const created = await client.create(
      aModelSubscription('immutable').inNamespace(namespace).build<KubernetesObject>(),
    );
    const changed = { ...created, spec: { model: 'llama-3-8b' } };
    const message = await client.replace(changed).then(
      () => undefined,
      (err: unknown) => statusMessage(err),
    );
    expect(message).toContain('model is immutable');
  });

  it("a User's identity may be set once and never changed", async () => {
    const created = await client.create(
      aUser('identity-once').build<KubernetesObject & { spec: object }>(),
    );
    const identity = { issuer: 'https://dex.example.com', subject: 'CgVhbGljZQ' };
    const linked = await client.replace({ ...created, spec: { ...created.spec, identity } });
    const message = await client
      .replace({
        ...linked,
        spec: { ...created.spec, identity: { ...identity, subject: 'someone-else' } },
      })
      .then(
        () => undefined,
        (err: unknown) => statusMessage(err),
      );
    expect(message).toContain('identity cannot change once set');
  });
});
