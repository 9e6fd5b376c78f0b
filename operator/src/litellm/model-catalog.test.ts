import { describe, expect, it } from 'vitest';
import { LiteLLMError } from './errors.ts';
import { ModelCatalog, modelFactsFrom } from './model-catalog.ts';
import type { ModelInfoResponse } from './schemas.ts';

type Deployment = ModelInfoResponse['data'][number];

const deployment = (model_name: string, model_info: Deployment['model_info'] = {}): Deployment => ({
  model_name,
  litellm_params: { model: `openai/${model_name}` },
  model_info,
});
const granite = deployment('granite-3-8b', {
  id: 'abc',
  mode: 'chat',
  litellm_provider: 'hosted_vllm',
  max_tokens: 4096,
  max_input_tokens: 128000,
  input_cost_per_token: 1e-7,
  output_cost_per_token: 1.4999999999999999e-7,
  supports_vision: false,
});

describe('modelFactsFrom', () => {
  it("maps LiteLLM's model_info onto status.modelInfo, costs as decimal strings", () => {
    expect(modelFactsFrom({ data: [granite] }).get('granite-3-8b')).toEqual({
      provider: 'hosted_vllm',
      mode: 'chat',
      maxInputTokens: 128000,
      maxOutputTokens: 4096,
      inputCostPerToken: '0.0000001',
      outputCostPerToken: '0.00000015',
    });
  });

  it('prefers max_output_tokens to the legacy max_tokens', () => {
    const facts = modelFactsFrom({
      data: [deployment('m', { max_tokens: 8192, max_output_tokens: 2048 })],
    }).get('m');
    expect(facts).toEqual({ maxOutputTokens: 2048 });
  });

  it('leaves out what LiteLLM does not know or status cannot hold', () => {
    const facts = modelFactsFrom({
      data: [
        deployment('m', {
          mode: null,
          litellm_provider: 'x'.repeat(200),
          max_input_tokens: 1.5,
          max_tokens: -1,
          input_cost_per_token: null,
        }),
      ],
    }).get('m');
    expect(facts).toEqual({});
  });

  it('knows a model without model_info, with no facts', () => {
    expect(modelFactsFrom({ data: [deployment('bare', null)] }).get('bare')).toEqual({});
  });

  it('takes the first deployment of a model that has facts', () => {
    const models = modelFactsFrom({
      data: [
        deployment('granite-3-8b', null),
        { ...granite, model_info: { ...granite.model_info, litellm_provider: 'first' } },
        { ...granite, model_info: { ...granite.model_info, litellm_provider: 'second' } },
      ],
    });
    expect(models.get('granite-3-8b')?.provider).toBe('first');
    expect([...models.keys()]).toEqual(['granite-3-8b']);
  });
});

/** A LiteLLM whose /model/info answers what the test says next. */
function fakeLiteLLM() {
  const answers: (ModelInfoResponse | Error)[] = [];
  let calls = 0;
  return {
    answers,
    get calls() {
      return calls;
    },
    modelInfo: async () => {
      calls++;
      const next = answers.length > 1 ? answers.shift()! : answers[0]!;
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

const down = () =>
  new LiteLLMError({
    kind: 'unavailable',
    method: 'GET',
    endpoint: '/model/info',
    detail: 'connect ECONNREFUSED',
  });

describe('ModelCatalog', () => {
  it('loads, answers from memory and tells listeners', async () => {
    const litellm = fakeLiteLLM();
    litellm.answers.push({ data: [granite, deployment('llama-3-8b')] });
    const catalog = new ModelCatalog({ litellm, refreshIntervalMs: 60_000 });
    let changes = 0;
    catalog.onChange(() => changes++);
    expect(catalog.state).toBe('loading');
    expect(catalog.get('granite-3-8b')).toBeUndefined();

    expect(await catalog.refresh()).toBe(true);
    expect(catalog.loaded).toBe(true);
    expect(catalog.models()).toEqual(['granite-3-8b', 'llama-3-8b']);
    expect(catalog.get('granite-3-8b')?.mode).toBe('chat');
    expect(catalog.get('llama-3-8b')).toEqual({});
    expect(catalog.get('gpt-5')).toBeUndefined();
    expect(catalog.refreshedAt).toBeInstanceOf(Date);
    expect(changes).toBe(1);
  });

  it('stays quiet when a refresh finds the same catalog, in any order', async () => {
    const litellm = fakeLiteLLM();
    const other = deployment('llama-3-8b');
    litellm.answers.push({ data: [granite, other] }, { data: [other, granite] });
    const catalog = new ModelCatalog({ litellm, refreshIntervalMs: 60_000 });
    let changes = 0;
    catalog.onChange(() => changes++);
    await catalog.refresh();
    expect(await catalog.refresh()).toBe(false);
    expect(changes).toBe(1);
  });

  it('tells listeners when a model appears, goes or its facts change', async () => {
    const litellm = fakeLiteLLM();
    const cheaper = {
      ...granite,
      model_info: { ...granite.model_info, input_cost_per_token: 5e-8 },
    };
    litellm.answers.push(
      { data: [granite] },
      { data: [granite, deployment('new')] },
      { data: [granite] },
      { data: [cheaper] },
    );
    const catalog = new ModelCatalog({ litellm, refreshIntervalMs: 60_000 });
    let changes = 0;
    catalog.onChange(() => changes++);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await catalog.refresh());
    expect(results).toEqual([true, true, true, true]);
    expect(changes).toBe(4);
    expect(catalog.get('granite-3-8b')?.inputCostPerToken).toBe('0.00000005');
  });

  it('is unavailable while LiteLLM has never answered, and says why', async () => {
    const litellm = fakeLiteLLM();
    litellm.answers.push(down(), down(), { data: [granite] });
    const catalog = new ModelCatalog({ litellm, refreshIntervalMs: 60_000 });
    const states: string[] = [];
    catalog.onChange(() => states.push(catalog.state));

    await expect(catalog.refresh()).rejects.toThrow(/ECONNREFUSED/);
    expect(catalog.state).toBe('unavailable');
    expect((catalog.lastError as Error).message).toContain('GET /model/info');
    await expect(catalog.refresh()).rejects.toThrow();
    expect(states).toEqual(['unavailable']); // one change, not one per failure

    await catalog.refresh();
    expect(catalog.state).toBe('loaded');
    expect(catalog.lastError).toBeUndefined();
    expect(states).toEqual(['unavailable', 'loaded']);
  });

  it('keeps the last catalog when a later refresh fails', async () => {
    const litellm = fakeLiteLLM();
    litellm.answers.push({ data: [granite] }, down());
    const catalog = new ModelCatalog({ litellm, refreshIntervalMs: 60_000 });
    let changes = 0;
    catalog.onChange(() => changes++);
    await catalog.refresh();
    await expect(catalog.refresh()).rejects.toThrow();
    expect(catalog.state).toBe('loaded');
    expect(catalog.get('granite-3-8b')).toBeDefined();
    expect(catalog.lastError).toBeInstanceOf(LiteLLMError);
    expect(changes).toBe(1);
  });

  it('shares one call among concurrent refreshes', async () => {
    const litellm = fakeLiteLLM();
    litellm.answers.push({ data: [granite] });
    const catalog = new ModelCatalog({ litellm, refreshIntervalMs: 60_000 });
    await Promise.all([catalog.refresh(), catalog.refresh(), catalog.refresh()]);
    expect(litellm.calls).toBe(1);
    await catalog.refresh();
    expect(litellm.calls).toBe(2);
  });

  it('survives a listener that throws, and unsubscribes', async () => {
    const litellm = fakeLiteLLM();
    litellm.answers.push({ data: [granite] }, { data: [] });
    const catalog = new ModelCatalog({ litellm, refreshIntervalMs: 60_000 });
    let calls = 0;
    catalog.onChange(() => {
      throw new Error('boom');
    });
    const off = catalog.onChange(() => calls++);
    await catalog.refresh();
    off();
    await catalog.refresh();
    expect(calls).toBe(1);
    expect(catalog.models()).toEqual([]);
  });
});
