import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ModelSubscription, Team, User, VirtualKey } from '../../../../crds/api/index.ts';
import {
  aModelSubscription,
  aTeam,
  aUser,
  aVirtualKey,
} from '../../../../test/fixtures/builders.ts';
import { ObjectStore } from '../../runtime/cache.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { KEY_INDEXES, SUBSCRIPTION_INDEXES, TEAM_INDEXES } from '../shared/indexes.ts';
import {
  keyChanged,
  keyForSecret,
  keySecretMetadata,
  keysForSubscription,
  keysForTeam,
  keysForUser,
  secretTampered,
  subscriptionAccessChanged,
  teamAccessChanged,
  userAccessChanged,
  type VirtualKeyStores,
} from './watches.ts';

const T0 = '2026-11-23T10:00:00Z';
const condition = (type: string, status: 'True' | 'False', reason = 'Some') => ({
  type,
  status,
  reason,
  message: '',
  lastTransitionTime: T0,
});

const team = (): Team =>
  aTeam('ml')
    .with('spec.namespaces', ['apps', 'batch'])
    .with('spec.limits', { rpm: 10 })
    .with('status', {
      teamId: 'ml-id',
      models: ['granite', 'llama'],
      members: [
        { user: 'alice', role: 'member', source: 'spec' },
        { user: 'bob', role: 'admin', source: 'group:ml' },
      ],
      memberCount: 2,
      spend: '1.00',
      conditions: [condition('Synced', 'True'), condition('Ready', 'True')],
    })
    .build<Team>();

const user = (): User =>
  aUser('alice')
    .with('status', {
      userId: 'u-1',
      teams: ['ml'],
      conditions: [condition('Ready', 'True')],
    })
    .build<User>();

const subscription = (): ModelSubscription =>
  aModelSubscription('granite')
    .inNamespace('apps')
    .with('spec.limits', { tpm: 100 })
    .with('status', { phase: 'Active', team: 'ml' })
    .build<ModelSubscription>();

type Secret = V1Secret & KubeObject;
const ownerRef = (name = 'chatbot', controller = true, kind = 'VirtualKey') => ({
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind,
  name,
  uid: `uid-${name}`,
  controller,
});
const secret = (): Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 'chatbot',
    namespace: 'apps',
    resourceVersion: '1',
    annotations: { 'llmtenancy.dev/minted-at': T0 },
    ownerReferences: [ownerRef()],
  },
  data: { OPENAI_API_KEY: 'c2stYQ==', OPENAI_BASE_URL: 'aHR0cA==' },
});

/** A copy of `object` with `edit` applied. */
function edited<T>(object: T, edit: (copy: T) => void): T {
  const copy = structuredClone(object);
  edit(copy);
  return copy;
}

describe('teamAccessChanged', () => {
  const before = team();

  it('false for changes that cannot change any key', () => {
    expect(teamAccessChanged(before, structuredClone(before))).toBe(false);
    expect(
      teamAccessChanged(
        before,
        edited(before, (t) => {
          t.metadata.resourceVersion = '9';
          t.metadata.labels = { x: 'y' };
          t.spec.displayName = 'ML';
          t.status!.spend = '2.00';
          t.status!.memberCount = 3;
          t.status!.members![1]!.role = 'member';
          t.status!.members![1]!.source = 'spec';
          t.status!.conditions = [
            condition('Synced', 'True', 'Other'),
            condition('Ready', 'False'),
          ];
        }),
      ),
    ).toBe(false);
  });

  it.each<[string, (t: Team) => void]>([
    ['namespaces', (t) => (t.spec.namespaces = ['apps'])],
    ['limits', (t) => (t.spec.limits = { rpm: 20 })],
    ['limits removed', (t) => delete t.spec.limits],
    ['enabled gateway routes', (t) => (t.spec.gateway = { enabledRoutes: ['files'] })],
    ['teamId', (t) => (t.status!.teamId = 'other-id')],
    ['models', (t) => (t.status!.models = ['granite'])],
    ['members', (t) => t.status!.members!.pop()],
    ['Synced', (t) => (t.status!.conditions![0] = condition('Synced', 'False'))],
    ['status gone', (t) => delete t.status],
    ['deletion', (t) => (t.metadata.deletionTimestamp = new Date(T0))],
  ])('true when %s changes', (_, edit) => {
    expect(teamAccessChanged(before, edited(before, edit))).toBe(true);
  });

  it('true when the spend crosses the budget, either way; not for spend on one side of it', () => {
    const budgeted = edited(before, (t) => (t.spec.limits = { maxBudget: '5' }));
    const spending = (spend: string) => edited(budgeted, (t) => (t.status!.spend = spend));
    expect(teamAccessChanged(budgeted, spending('4.99'))).toBe(false);
    expect(teamAccessChanged(spending('5'), spending('5.01'))).toBe(true);
    expect(teamAccessChanged(spending('5.01'), spending('7'))).toBe(false);
    expect(teamAccessChanged(spending('7'), spending('0'))).toBe(true);
  });

  it("true for a new budget period (the spend sync's resetsAt); not for spend within one", () => {
    const inPeriod = (resetsAt: string, used: string) =>
      edited(before, (t) => {
        t.spec.limits = { maxBudget: '5', budgetDuration: '7d' };
        t.status!.budget = { maxBudget: '5', usedFraction: used, resetsAt };
      });
    const now = inPeriod('2026-11-30T10:00:00Z', '0.1000');
    expect(teamAccessChanged(now, inPeriod('2026-11-30T10:00:00Z', '0.4000'))).toBe(false);
    expect(teamAccessChanged(now, inPeriod('2026-12-07T10:00:00Z', '0.0000'))).toBe(true);
  });
});

describe('userAccessChanged', () => {
  const before = user();

  it('false for changes that cannot change any key', () => {
    expect(
      userAccessChanged(
        before,
        edited(before, (u) => {
          u.spec.displayName = 'Alice';
          u.status!.teams = ['ml', 'nlp'];
          u.status!.lastLoginAt = T0;
          u.status!.conditions = [condition('Ready', 'True', 'Other')];
        }),
      ),
    ).toBe(false);
  });

  it.each<[string, (u: User) => void]>([
    ['Ready', (u) => (u.status!.conditions = [condition('Ready', 'False')])],
    ['Ready gone', (u) => (u.status!.conditions = [])],
    ['userId', (u) => (u.status!.userId = 'u-2')],
    ['deletion', (u) => (u.metadata.deletionTimestamp = new Date(T0))],
  ])('true when %s changes', (_, edit) => {
    expect(userAccessChanged(before, edited(before, edit))).toBe(true);
  });
});

describe('subscriptionAccessChanged', () => {
  const before = subscription();

  it('false for changes that cannot change any key', () => {
    expect(
      subscriptionAccessChanged(
        before,
        edited(before, (s) => {
          s.metadata.resourceVersion = '5';
          s.status!.modelInfo = { provider: 'openai' };
          s.status!.conditions = [condition('Ready', 'True')];
        }),
      ),
    ).toBe(false);
  });

  it.each<[string, (s: ModelSubscription) => void]>([
    ['phase', (s) => (s.status!.phase = 'Suspended')],
    ['team', (s) => (s.status!.team = 'nlp')],
    ['limits', (s) => (s.spec.limits = { tpm: 200 })],
    ['limits removed', (s) => delete s.spec.limits],
  ])('true when %s changes', (_, edit) => {
    expect(subscriptionAccessChanged(before, edited(before, edit))).toBe(true);
  });
});

describe('secretTampered', () => {
  const before = secret();

  it('true for every write: the metadata-only cache cannot tell ours from a tenant edit', () => {
    const written = edited(before, (s) => (s.metadata!.resourceVersion = '2'));
    expect(secretTampered(before, written)).toBe(true);
  });

  it('false when nothing was written (same resourceVersion)', () => {
    expect(
      secretTampered(
        before,
        edited(before, () => {}),
      ),
    ).toBe(false);
  });
});

describe('keySecretMetadata', () => {
  it('keeps identity and the controlling VirtualKey reference, nothing a tenant can fill', () => {
    const big = edited(secret(), (s) => {
      s.metadata!.labels = { 'llmtenancy.dev/virtual-key': 'chatbot', filler: 'x'.repeat(60) };
      s.metadata!.annotations = { filler: 'x'.repeat(100_000) };
      s.metadata!.ownerReferences = [ownerRef('other', false), ownerRef('chatbot', true)];
    });
    const kept = keySecretMetadata(big);
    expect(kept).toEqual({
      apiVersion: big.apiVersion,
      kind: big.kind,
      metadata: {
        name: big.metadata!.name,
        namespace: 'apps',
        uid: big.metadata!.uid,
        resourceVersion: big.metadata!.resourceVersion,
        ownerReferences: [
          {
            apiVersion: ownerRef('chatbot', true).apiVersion,
            kind: 'VirtualKey',
            name: 'chatbot',
            uid: ownerRef('chatbot', true).uid,
            controller: true,
          },
        ],
      },
    });
    expect(keyForSecret(kept as never)).toEqual(keyForSecret(big));
  });
});

describe('keyForSecret', () => {
  it('maps a Secret to its controlling VirtualKey in its namespace', () => {
    expect(keyForSecret(secret())).toEqual([{ namespace: 'apps', name: 'chatbot' }]);
    const two = edited(secret(), (s) => {
      s.metadata!.ownerReferences = [ownerRef('other', false), ownerRef('mine', true)];
    });
    expect(keyForSecret(two)).toEqual([{ namespace: 'apps', name: 'mine' }]);
  });

  it('nothing without a controlling VirtualKey reference or a namespace', () => {
    const refs = (...r: ReturnType<typeof ownerRef>[]) =>
      edited(secret(), (s) => (s.metadata!.ownerReferences = r));
    expect(keyForSecret(refs())).toEqual([]);
    expect(keyForSecret(refs(ownerRef('chatbot', false)))).toEqual([]);
    expect(keyForSecret(refs(ownerRef('chatbot', true, 'Team')))).toEqual([]);
    expect(keyForSecret(edited(secret(), (s) => delete s.metadata!.namespace))).toEqual([]);
    expect(keyForSecret({ data: {} })).toEqual([]);
  });
});

describe('key mappers', () => {
  const vk = (namespace: string, name: string, userName?: string) => {
    const b = aVirtualKey(name).inNamespace(namespace);
    return (userName ? b.with('spec.user', userName) : b).build<VirtualKey>();
  };

  function stores(): VirtualKeyStores {
    const s: VirtualKeyStores = {
      keys: new ObjectStore<VirtualKey>(KEY_INDEXES),
      teams: new ObjectStore<Team>(TEAM_INDEXES),
      users: new ObjectStore<User>(),
      subscriptions: new ObjectStore<ModelSubscription>(SUBSCRIPTION_INDEXES),
    };
    s.keys.set(vk('apps', 'chatbot', 'alice'));
    s.keys.set(vk('apps', 'batch-job'));
    s.keys.set(vk('batch', 'nightly', 'alice'));
    s.keys.set(vk('other', 'x', 'bob'));
    return s;
  }
  const names = (requests: readonly { namespace?: string; name: string }[]) =>
    requests.map((r) => `${r.namespace}/${r.name}`).sort();

  it('a Team maps to the keys in its namespaces', () => {
    expect(names(keysForTeam(stores())(team()))).toEqual([
      'apps/batch-job',
      'apps/chatbot',
      'batch/nightly',
    ]);
  });

  it('a User maps to the keys naming it', () => {
    expect(names(keysForUser(stores())(user()))).toEqual(['apps/chatbot', 'batch/nightly']);
  });

  it('a ModelSubscription maps to the keys in its namespace', () => {
    expect(names(keysForSubscription(stores())(subscription()))).toEqual([
      'apps/batch-job',
      'apps/chatbot',
    ]);
  });
});

describe('keyChanged', () => {
  const FINALIZER = 'llmtenancy.dev/cleanup';
  const changed = keyChanged(FINALIZER);
  const key = (generation: number, finalizers?: string[]) =>
    aVirtualKey('chatbot')
      .inNamespace('apps')
      .with('metadata.generation', generation)
      .with('metadata.finalizers', finalizers)
      .build<VirtualKey>();

  it('ignores the finalizer the reconciler adds itself, and its status writes', () => {
    expect(changed(key(1), key(1, [FINALIZER]))).toBe(false);
    expect(changed(key(1, ['other']), key(1, ['other', FINALIZER]))).toBe(false);
    expect(changed(key(1, [FINALIZER]), key(1, [FINALIZER]))).toBe(false);
  });

  it('still reacts to a spec change, its finalizer removed, or another finalizer added', () => {
    expect(changed(key(1), key(2, [FINALIZER]))).toBe(true);
    expect(changed(key(1, [FINALIZER]), key(1))).toBe(true);
    expect(changed(key(1), key(1, ['other', FINALIZER]))).toBe(true);
    expect(changed(key(1, [FINALIZER]), key(1, [FINALIZER, 'other']))).toBe(true);
  });

  it('reacts to a new budget period in status (the spend sync), not to spend within one', () => {
    const budgeted = (resetsAt: string | undefined, spend: string) =>
      edited(key(1, [FINALIZER]), (k) => {
        k.status = {
          spend,
          budget: { maxBudget: '1', usedFraction: spend, ...(resetsAt ? { resetsAt } : {}) },
        };
      });
    const first = budgeted('2026-12-01T00:00:00Z', '0.1000');
    expect(changed(first, budgeted('2026-12-01T00:00:00Z', '0.9000'))).toBe(false);
    expect(changed(first, budgeted('2026-12-31T00:00:00Z', '0.0000'))).toBe(true);
    expect(changed(budgeted(undefined, '0.1000'), first)).toBe(true);
  });
});
