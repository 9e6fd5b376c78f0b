import { describe, expect, it } from 'vitest';
import { ROUTES, RouteTable, type RouteSpec } from './route-table.ts';

const table = new RouteTable();
const groupOf = (method: string, path: string) => table.match(method, path)?.route.group;

describe('RouteTable', () => {
  it('serves the model calls under /v1, with the model in the JSON body or the form', () => {
    expect(table.match('POST', '/v1/chat/completions')?.route).toMatchObject({
      group: 'inference',
      model: 'json',
    });
    for (const path of ['/v1/completions', '/v1/embeddings', '/v1/rerank', '/v2/rerank']) {
      expect(table.match('POST', path)?.route.model).toBe('json');
    }
    expect(table.match('POST', '/v1/audio/transcriptions')?.route.model).toBe('form');
    expect(table.match('POST', '/v1/images/edits')?.route.model).toBe('form');
  });

  it('finds the model in the path of deployments and engines routes, slashes included', () => {
    expect(table.match('POST', '/openai/deployments/gpt-4o/chat/completions')).toMatchObject({
      route: { path: '/openai/deployments/{model+}/chat/completions', model: 'path' },
      pathModel: 'gpt-4o',
    });
    expect(table.match('POST', '/openai/deployments/openai/gpt-4o/completions')).toMatchObject({
      route: { path: '/openai/deployments/{model+}/completions' },
      pathModel: 'openai/gpt-4o',
    });
    expect(table.match('POST', '/engines/m%20x/embeddings')?.pathModel).toBe('m x');
    expect(table.match('POST', '/openai/deployments/m/images/edits')?.route.body).toBe('form');
    // As in LiteLLM's {model:path}: a model named "chat" on the completions route.
    expect(table.match('POST', '/openai/deployments/chat/completions')?.pathModel).toBe('chat');
    expect(table.match('POST', '/openai/deployments/completions')).toBeUndefined();
    expect(table.match('POST', '/engines/m')).toBeUndefined();
  });

  /** Every chat and completions route, wherever its model is named. */
  const CHAT_AND_COMPLETIONS = [
    '/engines/{model+}/chat/completions',
    '/engines/{model+}/completions',
    '/openai/deployments/{model+}/chat/completions',
    '/openai/deployments/{model+}/completions',
    '/v1/chat/completions',
    '/v1/completions',
  ];

  it.each([
    ['asking for stream usage', 'usageInStream', CHAT_AND_COMPLETIONS],
    [
      'reserving output tokens (they generate text)',
      'generatesOutput',
      [...CHAT_AND_COMPLETIONS, '/v1/messages', '/v1/responses'],
    ],
  ] as const)('marks exactly the routes %s', (_what, flag, paths) => {
    const marked = ROUTES.filter((r) => r[flag]).map((r) => r.path);
    expect(marked.sort()).toEqual([...paths].sort());
  });

  it('knows nothing it does not list: other paths, other methods, prefixes and extensions', () => {
    for (const [method, path] of [
      ['POST', '/v1/v1/chat/completions'],
      ['POST', '/chat/completions'],
      ['GET', '/v1/chat/completions'],
      ['POST', '/v1/chat/completions/x'],
      ['POST', '/v1/chat'],
      ['POST', '/v1/audio/translations'],
      ['POST', '/v1/images/variations'],
      ['POST', '/v1/mcp/tools/call'],
      ['GET', '/v1/mcp/server'],
      ['POST', '/key/generate'],
      ['GET', '/health'],
      ['POST', '/anthropic/v1/messages'],
      ['GET', '/v1/models/openai/gpt-4o'],
      ['HEAD', '/v1/models'],
      ['POST', '/'],
    ]) {
      expect(table.match(method!, path!), `${method} ${path}`).toBeUndefined();
    }
  });

  it('puts the routes that reach models without naming one in their groups', () => {
    expect(groupOf('POST', '/v1/files')).toBe('files');
    expect(groupOf('GET', '/v1/files/file-1/content')).toBe('files');
    expect(groupOf('POST', '/v1/batches')).toBe('batches');
    expect(groupOf('POST', '/v1/batches/b-1/cancel')).toBe('batches');
    expect(groupOf('POST', '/v1/fine_tuning/jobs')).toBe('fineTuning');
    expect(groupOf('POST', '/v1/vector_stores/vs-1/search')).toBe('vectorStores');
    expect(groupOf('POST', '/v1/assistants')).toBe('assistants');
    expect(groupOf('POST', '/v1/threads/t-1/runs')).toBe('assistants');
    expect(groupOf('POST', '/v1/realtime/client_secrets')).toBe('realtime');
    expect(groupOf('POST', '/mcp')).toBe('mcp');
    expect(groupOf('GET', '/mcp/server-a/x')).toBe('mcp');
    expect(groupOf('GET', '/v1/responses/resp_1')).toBe('storedResponses');
    expect(groupOf('POST', '/v1/responses')).toBe('inference');
    expect(groupOf('POST', '/v1/responses/compact')).toBe('inference');
    expect(groupOf('GET', '/v1/models')).toBe('models');
    expect(groupOf('GET', '/v1/models/m')).toBe('models');
  });

  it('every model-calling route names its model somewhere', () => {
    for (const route of ROUTES.filter((r) => r.group === 'inference')) {
      expect(['json', 'form', 'path'], `${route.method} ${route.path}`).toContain(route.model);
    }
  });

  it('refuses a table with a route twice, or a parameter after a {…+} one', () => {
    const twice: RouteSpec = { method: 'GET', path: '/a', group: 'models', model: 'none' };
    expect(() => new RouteTable([twice, twice])).toThrow('duplicate route GET /a');
    expect(() => new RouteTable([{ ...twice, path: '/a/{model+}/{id}' }])).toThrow(
      'no parameter may follow',
    );
  });
});
