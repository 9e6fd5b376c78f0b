import { describe, expect, it } from 'vitest';
import { GenerateKeyRequest, UpdateKeyRequest, type KeyRow } from '../../litellm/schemas.ts';
import { INSTALLATION_KEY, MANAGED_BY_KEY, OWNER_KEY, OWNER_UID_KEY } from '../shared/ownership.ts';
import { NO_MODELS } from '../team/litellm-team.ts';
import {
  generateRequest,
  keyAlias,
  keyLimitFields,
  keyUpdates,
  type DesiredKey,
} from './litellm-key.ts';

const NOW = new Date('2026-11-23T10:00:00Z');
const VALUE = 'sk-abcdefghijklmnopqrstuvwxyz0123456789';
const owner = {
  kind: 'VirtualKey',
  namespace: 'ml-research',
  name: 'chatbot',
  uid: 'uid-1',
  installation: 'install-1',
};
const ours = {
  [MANAGED_BY_KEY]: 'llm-tenancy',
  [INSTALLATION_KEY]: 'install-1',
  [OWNER_KEY]: 'VirtualKey/ml-research/chatbot',
  [OWNER_UID_KEY]: 'uid-1',
};

const desired = (overrides: Partial<DesiredKey> = {}): DesiredKey => ({
  alias: keyAlias('ml-research', 'chatbot'),
  teamId: 'ml-id',
  models: ['granite', 'llama'],
  limits: keyLimitFields(undefined),
  blocked: false,
  owner,
  ...overrides,
});

/** The row LiteLLM holds for exactly `d` (expiry as LiteLLM writes it: UTC, no offset). */
const rowFor = (d: DesiredKey, extra: Partial<KeyRow> = {}): KeyRow => ({
  token: 'f'.repeat(64),
  key_alias: d.alias,
  team_id: d.teamId,
  user_id: d.userId ?? null,
  models: d.models.length > 0 ? [...d.models] : [NO_MODELS],
  ...d.limits,
  expires: d.expiresAt ? d.expiresAt.toISOString().replace('Z', '') : null,
  blocked: false,
  metadata: { ...ours },
  key_type: 'llm_api',
  allowed_routes: ['llm_api_routes'],
  ...extra,
});

describe('keyAlias', () => {
  it('is namespace/name, with /previous for the key in its grace period', () => {
    expect(keyAlias('ns', 'k')).toBe('ns/k');
    expect(keyAlias('ns', 'k', true)).toBe('ns/k/previous');
  });
});

describe('keyLimitFields', () => {
  it('maps spec limits to LiteLLM fields, money as numbers, absent as null, 0 kept', () => {
    expect(
      keyLimitFields({ maxBudget: '12.50', softBudget: '10', budgetDuration: '30d', rpm: 0 }),
    ).toEqual({
      max_budget: 12.5,
      soft_budget: 10,
      budget_duration: '30d',
      tpm_limit: null,
      rpm_limit: 0,
      max_parallel_requests: null,
    });
  });

  it('takes whole-number money as written in the spec', () => {
    expect(keyLimitFields({ maxBudget: 100, softBudget: 0 })).toMatchObject({
      max_budget: 100,
      soft_budget: 0,
    });
  });
});

describe('generateRequest', () => {
  it('a service key without limits or expiry: no nulls, no user_id, no duration, no blocked', () => {
    const request = generateRequest(desired(), VALUE, NOW);
    expect(request).toEqual({
      key: VALUE,
      key_alias: 'ml-research/chatbot',
      team_id: 'ml-id',
      models: ['granite', 'llama'],
      metadata: ours,
      key_type: 'llm_api',
      allowed_routes: ['llm_api_routes'],
    });
    expect(Object.values(request)).not.toContain(null);
    expect(GenerateKeyRequest.safeParse(request).success).toBe(true);
  });

  it('sends set limits only, user_id when set, duration in seconds from now, blocked when true', () => {
    const request = generateRequest(
      desired({
        userId: 'u-1',
        limits: keyLimitFields({ maxBudget: '5', tpm: 1000, maxParallelRequests: 0 }),
        expiresAt: new Date(NOW.getTime() + 90 * 86_400_000),
        blocked: true,
      }),
      VALUE,
      NOW,
    );
    expect(request).toEqual({
      key: VALUE,
      key_alias: 'ml-research/chatbot',
      team_id: 'ml-id',
      user_id: 'u-1',
      models: ['granite', 'llama'],
      max_budget: 5,
      tpm_limit: 1000,
      max_parallel_requests: 0,
      duration: `${90 * 86_400}s`,
      metadata: ours,
      blocked: true,
      key_type: 'llm_api',
      allowed_routes: ['llm_api_routes'],
    });
    expect(GenerateKeyRequest.safeParse(request).success).toBe(true);
  });

  it('a key that may reach nothing gets the NO_MODELS sentinel (empty would mean all)', () => {
    expect(generateRequest(desired({ models: [] }), VALUE, NOW).models).toEqual([NO_MODELS]);
  });

  it('duration rounds a fractional second up', () => {
    const request = generateRequest(
      desired({ expiresAt: new Date(NOW.getTime() + 1500) }),
      VALUE,
      NOW,
    );
    expect(request.duration).toBe('2s');
  });
});

describe('LLM API routes only', () => {
  it('mints every key as key_type llm_api with allowed_routes llm_api_routes, service or personal', () => {
    for (const d of [desired(), desired({ userId: 'u-1', blocked: true })]) {
      const request = GenerateKeyRequest.parse(generateRequest(d, VALUE, NOW));
      expect(request.key_type).toBe('llm_api');
      expect(request.allowed_routes).toEqual(['llm_api_routes']);
    }
  });

  it('limits a key LiteLLM has with other or no route limits (a key minted before this rule)', () => {
    const d = desired();
    for (const allowed_routes of [
      [],
      null,
      undefined,
      ['management_routes'],
      ['llm_api_routes', 'info_routes'],
    ]) {
      const update = keyUpdates(d, rowFor(d, { key_type: 'default', allowed_routes }), NOW);
      expect(update, JSON.stringify(allowed_routes)).toEqual({
        allowed_routes: ['llm_api_routes'],
      });
      expect(UpdateKeyRequest.safeParse({ key: 'k', ...update }).success).toBe(true);
    }
    // key_type cannot be changed by /key/update, and need not be: allowed_routes decides.
    expect(keyUpdates(d, rowFor(d, { key_type: 'default' }), NOW)).toBeUndefined();
  });
});

describe('keyUpdates', () => {
  it('is undefined for a row that already matches', () => {
    const d = desired({
      userId: 'u-1',
      limits: keyLimitFields({ maxBudget: '5', rpm: 10 }),
      expiresAt: new Date('2027-01-01T00:00:00Z'),
    });
    expect(keyUpdates(d, rowFor(d), NOW)).toBeUndefined();
  });

  it('treats absent and null limits alike, and models as a set', () => {
    const d = desired();
    const row = rowFor(d, { models: ['llama', 'granite'] });
    delete row.max_budget;
    delete row.rpm_limit;
    expect(keyUpdates(d, row, NOW)).toBeUndefined();
  });

  it('sends only the fields that differ', () => {
    const d = desired({ userId: 'u-1', limits: keyLimitFields({ tpm: 100 }) });
    const row = rowFor(d, {
      key_alias: 'ml-research/old',
      team_id: 'other',
      user_id: 'u-0',
      models: ['granite'],
    });
    const update = keyUpdates(d, row, NOW);
    expect(update).toEqual({
      key_alias: 'ml-research/chatbot',
      team_id: 'ml-id',
      user_id: 'u-1',
      models: ['granite', 'llama'],
    });
    expect(UpdateKeyRequest.safeParse({ key: 'f'.repeat(64), ...update }).success).toBe(true);
  });

  it('sends a changed limit and null for a limit removed from the spec', () => {
    const d = desired({ limits: keyLimitFields({ maxBudget: '20' }) });
    const row = rowFor(d, { max_budget: 10, rpm_limit: 50 });
    expect(keyUpdates(d, row, NOW)).toEqual({ max_budget: 20, rpm_limit: null });
  });

  it('models: a different set is resent; no models becomes NO_MODELS', () => {
    const d = desired({ models: ['granite'] });
    expect(keyUpdates(d, rowFor(d, { models: ['granite', 'llama'] }), NOW)).toEqual({
      models: ['granite'],
    });
    const none = desired({ models: [] });
    expect(keyUpdates(none, rowFor(none, { models: [] }), NOW)).toEqual({ models: [NO_MODELS] });
    expect(keyUpdates(none, rowFor(none, { models: null }), NOW)).toEqual({
      models: [NO_MODELS],
    });
  });

  it('does not resend an expiry within 60 s of ours', () => {
    const expiresAt = new Date('2027-01-01T00:00:00Z');
    const d = desired({ expiresAt });
    for (const expires of ['2027-01-01T00:00:59', '2026-12-31T23:59:01', '2027-01-01T00:00:30Z']) {
      expect(keyUpdates(d, rowFor(d, { expires }), NOW)).toBeUndefined();
    }
  });

  it('sends a duration from now when LiteLLM is further off, or has no expiry', () => {
    const expiresAt = new Date(NOW.getTime() + 3_600_000);
    const d = desired({ expiresAt });
    const offBy61s = new Date(expiresAt.getTime() + 61_000).toISOString();
    expect(keyUpdates(d, rowFor(d, { expires: offBy61s }), NOW)).toEqual({ duration: '3600s' });
    expect(keyUpdates(d, rowFor(d, { expires: null }), NOW)).toEqual({ duration: '3600s' });
  });

  it('sends duration null when the expiry was removed from the spec', () => {
    const d = desired();
    expect(keyUpdates(d, rowFor(d, { expires: '2027-01-01T00:00:00' }), NOW)).toEqual({
      duration: null,
    });
  });

  it('merges our metadata into LiteLLM metadata, keeping foreign keys, when ours is missing', () => {
    const d = desired();
    const row = rowFor(d, { metadata: { team_note: 'x', [OWNER_UID_KEY]: 'stale' } });
    expect(keyUpdates(d, row, NOW)).toEqual({ metadata: { team_note: 'x', ...ours } });
    expect(keyUpdates(d, rowFor(d, { metadata: null }), NOW)).toEqual({ metadata: ours });
  });

  it('leaves metadata alone when ours is there, whatever else it holds', () => {
    const d = desired();
    expect(keyUpdates(d, rowFor(d, { metadata: { ...ours, other: 1 } }), NOW)).toBeUndefined();
  });

  it('sends no user_id for a service key (LiteLLM cannot clear one through /key/update)', () => {
    const d = desired();
    expect(keyUpdates(d, rowFor(d, { user_id: 'someone' }), NOW)).toBeUndefined();
  });
});
