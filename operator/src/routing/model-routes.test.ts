import { describe, expect, it } from 'vitest';
import { ModelRoutes } from '../../../contracts/routing/schema.ts';
import { ModelCatalog } from '../litellm/model-catalog.ts';
import type { ModelInfoResponse } from '../litellm/schemas.ts';
import { catalogModelRoutes, modelRoutes } from './model-routes.ts';

type Deployment = ModelInfoResponse['data'][number];

const deployment = (model_name: string, model_info: Deployment['model_info']): Deployment => ({
  model_name,
  litellm_params: { model: `hosted_vllm/${model_name}` },
  model_info,
});

/** A catalog answering with `data` until it is replaced. */
function catalogOf(data: Deployment[] | Error) {
  let answer = data;
  const catalog = new ModelCatalog({
    litellm: {
      modelInfo: async () => {
        if (answer instanceof Error) throw answer;
        return { data: answer };
      },
    },
    refreshIntervalMs: 60_000,
  });
  return {
    catalog,
    answer: (next: Deployment[] | Error) => {
      answer = next;
    },
  };
}

describe('modelRoutes', () => {
  it('routes every model with its provider and mode, and nothing else of its facts', async () => {
    const { catalog } = catalogOf([
      deployment('granite-3-8b', {
        litellm_provider: 'hosted_vllm',
        mode: 'chat',
        max_input_tokens: 128000,
        input_cost_per_token: 1e-7,
      }),
      deployment('nomic-embed', { litellm_provider: 'openai', mode: 'embedding' }),
    ]);
    await catalog.refresh();
    const routes = modelRoutes(catalog);
    expect(routes).toEqual({
      schemaVersion: 1,
      models: {
        'granite-3-8b': { provider: 'hosted_vllm', mode: 'chat' },
        'nomic-embed': { provider: 'openai', mode: 'embedding' },
      },
    });
    expect(ModelRoutes.safeParse(routes).success).toBe(true);
  });

  it('routes a model LiteLLM says nothing about, without provider or mode', async () => {
    const { catalog } = catalogOf([
      deployment('bare', null),
      deployment('mode-only', { mode: 'completion', litellm_provider: null }),
    ]);
    await catalog.refresh();
    expect(modelRoutes(catalog).models).toEqual({ bare: {}, 'mode-only': { mode: 'completion' } });
  });

  it('is empty, not absent, when LiteLLM serves no model', async () => {
    const { catalog } = catalogOf([]);
    await catalog.refresh();
    expect(modelRoutes(catalog)).toEqual({ schemaVersion: 1, models: {} });
  });

  it('gives the first deployment with facts for a load-balanced model', async () => {
    const { catalog } = catalogOf([
      deployment('llama', null),
      deployment('llama', { litellm_provider: 'hosted_vllm', mode: 'chat' }),
      deployment('llama', { litellm_provider: 'openai', mode: 'chat' }),
    ]);
    await catalog.refresh();
    expect(modelRoutes(catalog).models).toEqual({
      llama: { provider: 'hosted_vllm', mode: 'chat' },
    });
  });
});

describe('catalogModelRoutes', () => {
  it('offers nothing before the catalog loads, nor while LiteLLM has never answered', async () => {
    const { catalog } = catalogOf(new Error('LiteLLM down'));
    const source = catalogModelRoutes(catalog);
    expect(source.current()).toBeUndefined();
    await expect(catalog.refresh()).rejects.toThrow('LiteLLM down');
    expect(catalog.state).toBe('unavailable');
    expect(source.current()).toBeUndefined();
  });

  it('follows the catalog, keeps the last routes when a refresh fails, and tells of changes', async () => {
    const { catalog, answer } = catalogOf([deployment('a', { mode: 'chat' })]);
    const source = catalogModelRoutes(catalog);
    let changes = 0;
    const unsubscribe = source.onChange(() => changes++);

    await catalog.refresh();
    expect(source.current()?.models).toEqual({ a: { mode: 'chat' } });
    expect(changes).toBe(1);

    answer([deployment('a', { mode: 'chat' }), deployment('b', { mode: 'embedding' })]);
    await catalog.refresh();
    expect(Object.keys(source.current()!.models)).toEqual(['a', 'b']);
    expect(changes).toBe(2);

    answer(new Error('LiteLLM down'));
    await expect(catalog.refresh()).rejects.toThrow();
    expect(Object.keys(source.current()!.models)).toEqual(['a', 'b']);
    expect(changes).toBe(2);

    unsubscribe();
    answer([]);
    await catalog.refresh();
    expect(source.current()?.models).toEqual({});
    expect(changes).toBe(2);
  });
});
