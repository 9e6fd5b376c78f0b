import { describe, expect, it } from 'vitest';
import { LiteLLMClient } from '../../litellm/client.ts';
import type { KeyRow, ListKeysQuery, ListKeysResponse } from '../../litellm/schemas.ts';
import { FakeClock } from '../../runtime/fake-clock.ts';
import { INSTALLATION_KEY, MANAGED_BY_KEY, OWNER_KEY, OWNER_UID_KEY } from '../shared/ownership.ts';
import { KeySnapshot } from './key-snapshot.ts';
import { keyAlias, keyLimitFields, type DesiredKey } from './litellm-key.ts';
import { keyInSync, OwnedKeys } from './owned-keys.ts';

const NOW = new Date('2030-01-01T00:00:00Z');
const INTERVAL = 60_000;
const owner = {
  kind: 'VirtualKey',
  namespace: 'apps',
  name: 'chatbot',
  uid: 'uid-1',
  installation: 'install-1',
};
const desired: DesiredKey = {
  alias: keyAlias('apps', 'chatbot'),
  teamId: 'ml-id',
  models: ['granite'],
  limits: keyLimitFields(undefined),
  blocked: false,
  owner,
};
const metadataOf = (installation: string) => ({
  [MANAGED_BY_KEY]: 'llm-tenancy',
  [INSTALLATION_KEY]: installation,
  [OWNER_KEY]: 'VirtualKey/apps/chatbot',
  [OWNER_UID_KEY]: 'uid-1',
});
const row = (token: string, extra: Partial<KeyRow> = {}): KeyRow => ({
  token,
  key_alias: desired.alias,
  team_id: desired.teamId,
  user_id: null,
  models: ['granite'],
  ...desired.limits,
  expires: null,
  blocked: false,
  metadata: metadataOf('install-1'),
  allowed_routes: ['llm_api_routes'],
  ...extra,
});

/** A LiteLLM of `rows`, paged as /key/list pages; counts its calls by route. */
function fakeLiteLLM(rows: KeyRow[]) {
  const calls = { list: 0, info: 0, update: 0 };
  let failing = false;
  const litellm = {
    listKeys(query: ListKeysQuery): Promise<ListKeysResponse> {
      calls.list++;
      if (failing) return Promise.reject(new Error('LiteLLM is down'));
      const size = query.size ?? 10;
      const page = query.page ?? 1;
      return Promise.resolve({
        keys: rows.slice((page - 1) * size, page * size),
        total_count: rows.length,
        current_page: page,
        total_pages: Math.max(1, Math.ceil(rows.length / size)),
      });
    },
    // The client's own pager, over the pages above.
    listAllKeys(options: Parameters<LiteLLMClient['listAllKeys']>[0]) {
      return LiteLLMClient.prototype.listAllKeys.call(this, options);
    },
    keyInfo(hash: string) {
      calls.info++;
      const found = rows.find((r) => r.token === hash);
      return Promise.resolve({ key: hash, info: found ?? row(hash) });
    },
    updateKey() {
      calls.update++;
      return Promise.resolve({});
    },
  };
  return {
    litellm: litellm as unknown as LiteLLMClient,
    calls,
    rows,
    fail: () => (failing = true),
  };
}

const call = { object: 'VirtualKey apps/chatbot', signal: new AbortController().signal };

function setup(rows: KeyRow[], pageSize = 2) {
  const clock = new FakeClock(NOW.getTime());
  const fake = fakeLiteLLM(rows);
  const snapshot = new KeySnapshot({
    litellm: fake.litellm,
    installationId: 'install-1',
    maxAgeMs: INTERVAL,
    clock,
    pageSize,
  });
  return { clock, snapshot, keys: new OwnedKeys(fake.litellm, snapshot), ...fake };
}

describe('KeySnapshot', () => {
  it("reads every page when first asked, and keeps only this installation's keys", async () => {
    const { snapshot, calls } = setup([
      row('a'),
      row('b'),
      row('c', { metadata: metadataOf('install-2') }),
      row('d', { metadata: null }),
      row('e'),
    ]);
    expect(calls.list).toBe(0);
    expect((await snapshot.row('a'))?.token).toBe('a');
    expect(calls.list).toBe(3);
    expect(snapshot.size).toBe(3);
    expect(await snapshot.row('c')).toBeUndefined();
    expect(await snapshot.row('d')).toBeUndefined();
    expect(calls.list).toBe(3);
  });

  it('keeps of each row only the fields the operator reads, and keys still in sync', async () => {
    const extra = {
      litellm_budget_table: { max_budget: 5 },
      model_spend: { granite: 0.1 },
      object_permission: { vector_stores: [] },
    };
    const { snapshot, keys, calls } = setup([
      row('a', { spend: 0.25, ...extra } as Partial<KeyRow>),
    ]);
    const kept = await snapshot.row('a');
    expect(kept).toMatchObject({ token: 'a', spend: 0.25, models: ['granite'] });
    expect(kept).not.toHaveProperty('litellm_budget_table');
    expect(kept).not.toHaveProperty('model_spend');
    expect(kept).not.toHaveProperty('object_permission');
    // What is kept is enough to vouch for the key: no /key/info.
    expect(await keys.observe('a', call, { desired, now: NOW })).toBe(kept);
    expect(calls.info).toBe(0);
  });

  it('keeps the row it holds when a later listing shows it unchanged, and drops keys gone', async () => {
    const { snapshot, clock } = setup([]);
    const listed = (rows: KeyRow[]) => snapshot.taking(() => Promise.resolve(rows));
    await listed([row('a'), row('b', { spend: 1 }), row('c')]);
    const [a, b] = [await snapshot.row('a'), await snapshot.row('b')];
    clock.advance(1_000);
    await listed([row('a'), row('b', { spend: 2 })]);
    expect(await snapshot.row('a')).toBe(a); // the same object: nothing new to hold
    const changed = await snapshot.row('b');
    expect(changed).not.toBe(b);
    expect(changed?.spend).toBe(2);
    expect(await snapshot.row('c')).toBeUndefined();
    expect(snapshot.size).toBe(2);
  });

  it('lists once for the reconciles asking at the same time, and again once it is too old', async () => {
    const { snapshot, calls, clock } = setup([row('a'), row('b')], 100);
    await Promise.all([snapshot.row('a'), snapshot.row('b'), snapshot.row('x')]);
    expect(calls.list).toBe(1);
    clock.advance(INTERVAL);
    await snapshot.row('a');
    expect(calls.list).toBe(1);
    clock.advance(1);
    await snapshot.row('a');
    expect(calls.list).toBe(2);
  });

  it('vouches for nothing while LiteLLM cannot be listed, and lists again later', async () => {
    const { snapshot, clock, calls, fail } = setup([row('a')], 100);
    fail();
    expect(await snapshot.row('a')).toBeUndefined();
    expect(await snapshot.row('a')).toBeUndefined();
    expect(calls.list).toBe(1); // not once per reconcile
    clock.advance(INTERVAL);
    expect(await snapshot.row('a')).toBeUndefined();
    expect(calls.list).toBe(2);
  });

  it('no longer vouches for a key written since the snapshot began, until the next one', async () => {
    const { snapshot, clock } = setup([row('a'), row('b')]);
    await snapshot.row('a');
    clock.advance(1_000);
    snapshot.wrote('a');
    expect(await snapshot.row('a')).toBeUndefined();
    expect(await snapshot.row('b')).toBeDefined();
    clock.advance(INTERVAL);
    expect(await snapshot.row('a')).toBeDefined();
  });

  it("takes another loop's complete listing (the spend sync's) and lists nothing itself", async () => {
    const { snapshot, clock, calls, litellm } = setup([row('a'), row('b')], 100);
    const listed = await snapshot.taking(() => litellm.listAllKeys({ pageSize: 100 }));
    expect(listed.map((r) => r.token)).toEqual(['a', 'b']);
    expect(calls.list).toBe(1);
    expect((await snapshot.row('a'))?.token).toBe('a');
    expect(calls.list).toBe(1);
    // Each pass of that loop keeps it fresh: a resync interval later, still no listing of its own.
    clock.advance(INTERVAL);
    await snapshot.taking(() => litellm.listAllKeys({ pageSize: 100 }));
    clock.advance(INTERVAL);
    expect(await snapshot.row('b')).toBeDefined();
    expect(calls.list).toBe(2);
    // A write after that listing began is still not vouched for.
    snapshot.wrote('b');
    expect(await snapshot.row('b')).toBeUndefined();
  });

  it('keeps its snapshot when the other loop’s listing fails, and passes the failure on', async () => {
    const { snapshot, calls, litellm, fail } = setup([row('a')], 100);
    await snapshot.row('a');
    fail();
    await expect(snapshot.taking(() => litellm.listAllKeys({ pageSize: 100 }))).rejects.toThrow(
      'LiteLLM is down',
    );
    expect(await snapshot.row('a')).toBeDefined();
    expect(calls.list).toBe(2);
  });
});

describe('keyInSync', () => {
  const expected = { desired, now: NOW };
  it('is true only for a live key of ours with nothing to update', () => {
    expect(keyInSync(row('a'), expected)).toBe(true);
    expect(keyInSync(row('a', { models: ['granite', 'llama'] }), expected)).toBe(false);
    expect(keyInSync(row('a', { blocked: true }), expected)).toBe(false);
    expect(keyInSync(row('a', { status: 'deleted' }), expected)).toBe(false);
    expect(keyInSync(row('a', { expires: '2029-12-31T00:00:00' }), expected)).toBe(false);
    expect(
      keyInSync(
        row('a', { metadata: { ...metadataOf('install-1'), [OWNER_UID_KEY]: 'x' } }),
        expected,
      ),
    ).toBe(false);
  });
});

describe('OwnedKeys.observe with a snapshot', () => {
  const expected = { desired, now: NOW };

  it('takes a fresh row in sync without calling LiteLLM', async () => {
    const { keys, calls } = setup([row('a')]);
    expect((await keys.observe('a', call, expected))?.token).toBe('a');
    expect(calls.info).toBe(0);
  });

  it('reads live when the row differs, the key is not in the snapshot, or nothing is expected', async () => {
    const { keys, calls, rows } = setup([row('a'), row('b', { models: ['llama'] })]);
    await keys.observe('b', call, expected); // drifted: never decided on from the row
    await keys.observe('new', call, expected);
    await keys.observe('a', call); // the previous key, a legacy key: no expectation given
    expect(calls.info).toBe(3);
    // Changed behind our back after the snapshot: seen at a later snapshot, not now.
    rows[0] = row('a', { models: ['llama'] });
    expect((await keys.observe('a', call, expected))?.models).toEqual(['granite']);
    expect(calls.info).toBe(3);
  });

  it('reads live a key it wrote since the snapshot began', async () => {
    const { keys, calls, clock } = setup([row('a')]);
    await keys.observe('a', call, { desired, now: NOW });
    clock.advance(10);
    await keys.update('a', { models: ['granite'] }, call);
    await keys.observe('a', call, expected);
    expect(calls).toMatchObject({ update: 1, info: 1 });
  });
});
