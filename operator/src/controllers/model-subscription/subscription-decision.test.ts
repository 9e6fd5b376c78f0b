import { describe, expect, it } from 'vitest';
import type { ModelFacts } from '../../litellm/model-catalog.ts';
import {
  decideSubscription,
  type CatalogView,
  type ClaimingTeam,
  type SubscriptionFacts,
} from './subscription-decision.ts';

const granite: ModelFacts = {
  provider: 'hosted_vllm',
  mode: 'chat',
  maxInputTokens: 128000,
  inputCostPerToken: '0.0000001',
};
const served: CatalogView = { state: 'loaded', facts: granite };
const ml = (models?: string[]): ClaimingTeam => ({ name: 'ml', models });

/** A subscription to granite-3-8b in ml-apps, approved and served unless a test says otherwise. */
const facts = (change: Partial<SubscriptionFacts> = {}): SubscriptionFacts => ({
  namespace: 'ml-apps',
  model: 'granite-3-8b',
  suspended: false,
  teams: [ml(['granite-3-8b'])],
  catalog: served,
  ...change,
});
const outcome = (change: Partial<SubscriptionFacts> = {}) => {
  const decision = decideSubscription(facts(change));
  return decision && `${decision.phase}/${decision.ready.status}/${decision.ready.reason}`;
};

describe('decideSubscription', () => {
  it('activates an approved model LiteLLM serves, for the Team owning the namespace', () => {
    expect(decideSubscription(facts())).toEqual({
      phase: 'Active',
      team: 'ml',
      ready: {
        status: 'True',
        reason: 'Active',
        message: 'Team ml may use model granite-3-8b through this subscription',
      },
      modelInfo: granite,
    });
  });

  it('approves every model with "*"', () => {
    expect(outcome({ teams: [ml(['*'])] })).toBe('Active/True/Active');
  });

  it('denies a namespace no Team claims, naming it', () => {
    const decision = decideSubscription(facts({ teams: [] }))!;
    expect(decision).toMatchObject({
      phase: 'Denied',
      team: undefined,
      ready: { status: 'False', reason: 'NoTeam' },
    });
    expect(decision.ready.message).toContain('no Team claims namespace ml-apps');
  });

  it('denies a namespace several Teams claim, naming them', () => {
    const decision = decideSubscription(
      facts({ teams: [ml(['*']), { name: 'nlp', models: ['*'] }, { name: 'cv' }] }),
    )!;
    expect(decision).toMatchObject({
      phase: 'Denied',
      team: undefined,
      ready: { status: 'False', reason: 'NamespaceConflict' },
    });
    expect(decision.ready.message).toContain(
      'namespace ml-apps is claimed by Teams cv, ml and nlp',
    );
  });

  it('suspends before anything else about the model is asked', () => {
    const decision = decideSubscription(
      facts({ suspended: true, teams: [ml([])], catalog: { state: 'loaded', facts: undefined } }),
    )!;
    expect(decision).toMatchObject({
      phase: 'Suspended',
      team: 'ml',
      ready: { status: 'False', reason: 'Suspended' },
    });
  });

  it('is Pending while LiteLLM does not serve the model, before asking for approval', () => {
    const decision = decideSubscription(
      facts({ teams: [ml([])], catalog: { state: 'loaded', facts: undefined } }),
    )!;
    expect(decision).toEqual({
      phase: 'Pending',
      team: 'ml',
      ready: {
        status: 'False',
        reason: 'ModelNotFound',
        message: 'model granite-3-8b is not served by LiteLLM',
      },
      modelInfo: undefined,
    });
  });

  it('is Pending until a Team admin approves the model, and says how', () => {
    for (const models of [undefined, [], ['llama-3-8b']]) {
      const decision = decideSubscription(facts({ teams: [ml(models)] }))!;
      expect(decision).toMatchObject({
        phase: 'Pending',
        team: 'ml',
        ready: {
          status: 'False',
          reason: 'NotApproved',
          message:
            "model granite-3-8b is not in Team ml's spec.models; a Team admin approves it by adding it there",
        },
        // The facts help the admin decide.
        modelInfo: granite,
      });
    }
  });

  it('reports no modelInfo for a model LiteLLM describes with nothing', () => {
    expect(decideSubscription(facts({ catalog: { state: 'loaded', facts: {} } }))).toMatchObject({
      phase: 'Active',
      modelInfo: undefined,
    });
  });

  describe('before the model catalog has loaded', () => {
    it('decides nothing it needs the catalog for while the first load runs', () => {
      const catalog: CatalogView = { state: 'loading' };
      expect(decideSubscription(facts({ catalog }))).toBeUndefined();
      expect(decideSubscription(facts({ catalog, teams: [ml([])] }))).toBeUndefined();
      expect(outcome({ catalog, teams: [] })).toBe('Denied/False/NoTeam');
      expect(outcome({ catalog, suspended: true })).toBe('Suspended/False/Suspended');
    });

    const unavailable: CatalogView = {
      state: 'unavailable',
      message: 'GET /model/info: connect ECONNREFUSED 127.0.0.1:4000',
    };

    it('does not guess when LiteLLM has never answered: Ready=Unknown with its error', () => {
      const decision = decideSubscription(facts({ catalog: unavailable }))!;
      expect(decision).toEqual({
        phase: 'Pending',
        team: 'ml',
        ready: {
          status: 'Unknown',
          reason: 'ModelCatalogUnavailable',
          message:
            'cannot tell whether LiteLLM serves model granite-3-8b: GET /model/info: connect ECONNREFUSED 127.0.0.1:4000',
        },
        modelInfo: 'keep',
      });
    });

    it('keeps an Active subscription Active, and nothing else', () => {
      expect(outcome({ catalog: unavailable, currentPhase: 'Active' })).toBe(
        'Active/Unknown/ModelCatalogUnavailable',
      );
      for (const currentPhase of ['Pending', 'Denied', 'Suspended'] as const) {
        expect(outcome({ catalog: unavailable, currentPhase })).toBe(
          'Pending/Unknown/ModelCatalogUnavailable',
        );
      }
    });

    it('still withdraws a model the Team no longer approves', () => {
      expect(outcome({ catalog: unavailable, currentPhase: 'Active', teams: [ml([])] })).toBe(
        'Pending/False/NotApproved',
      );
    });
  });
});
