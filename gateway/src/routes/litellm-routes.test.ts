import { describe, expect, it } from 'vitest';
import { ROUTES } from './route-table.ts';

// The routes LiteLLM 1.108.7 serves under /v1, /v2, /openai/deployments and /engines, as
// METHOD + path with every parameter written {}: read off the @router / @app decorators of
// litellm/proxy/proxy_server.py and litellm/proxy/*_endpoints/ in the 1.108.7 wheel (its
// WebSocket routes left out: the gateway forwards HTTP only). Its MCP server is mounted at
// /mcp (an api_route for the bare path, an ASGI mount for the rest) and not listed here.
const LITELLM_1_108_7 = new Set([
  'DELETE /v1/assistants/{}',
  'DELETE /v1/containers/{}',
  'DELETE /v1/evals/{}',
  'DELETE /v1/evals/{}/runs/{}',
  'DELETE /v1/files/{}',
  'DELETE /v1/responses/{}',
  'DELETE /v1/vector_stores/{}',
  'DELETE /v1/vector_stores/{}/files/{}',
  'GET /v1/assistants',
  'GET /v1/batches',
  'GET /v1/batches/{}',
  'GET /v1/containers',
  'GET /v1/containers/{}',
  'GET /v1/evals',
  'GET /v1/evals/{}',
  'GET /v1/evals/{}/runs',
  'GET /v1/evals/{}/runs/{}',
  'GET /v1/files',
  'GET /v1/files/{}',
  'GET /v1/files/{}/content',
  'GET /v1/fine_tuning/jobs',
  'GET /v1/fine_tuning/jobs/{}',
  'GET /v1/mcp/oauth/authorize',
  'GET /v1/models',
  'GET /v1/models/{}',
  'GET /v1/responses/{}',
  'GET /v1/responses/{}/input_items',
  'GET /v1/threads/{}',
  'GET /v1/threads/{}/messages',
  'GET /v1/vector_stores',
  'GET /v1/vector_stores/{}',
  'GET /v1/vector_stores/{}/files',
  'GET /v1/vector_stores/{}/files/{}',
  'GET /v1/vector_stores/{}/files/{}/content',
  'POST /engines/{}/chat/completions',
  'POST /engines/{}/completions',
  'POST /engines/{}/embeddings',
  'POST /openai/deployments/{}/chat/completions',
  'POST /openai/deployments/{}/completions',
  'POST /openai/deployments/{}/embeddings',
  'POST /openai/deployments/{}/images/edits',
  'POST /openai/deployments/{}/images/generations',
  'POST /v1/assistants',
  'POST /v1/audio/speech',
  'POST /v1/audio/transcriptions',
  'POST /v1/batches',
  'POST /v1/batches/{}/cancel',
  'POST /v1/chat/completions',
  'POST /v1/completions',
  'POST /v1/containers',
  'POST /v1/embeddings',
  'POST /v1/evals',
  'POST /v1/evals/{}',
  'POST /v1/evals/{}/cancel',
  'POST /v1/evals/{}/runs',
  'POST /v1/evals/{}/runs/{}',
  'POST /v1/files',
  'POST /v1/fine_tuning/jobs',
  'POST /v1/fine_tuning/jobs/{}/cancel',
  'POST /v1/images/edits',
  'POST /v1/images/generations',
  'POST /v1/mcp/oauth/authorize',
  'POST /v1/mcp/oauth/token',
  'POST /v1/messages',
  'POST /v1/messages/count_tokens',
  'POST /v1/moderations',
  'POST /v1/ocr',
  'POST /v1/rag/ingest',
  'POST /v1/rag/query',
  'POST /v1/realtime/calls',
  'POST /v1/realtime/client_secrets',
  'POST /v1/realtime/transcription_sessions',
  'POST /v1/rerank',
  'POST /v1/responses',
  'POST /v1/responses/compact',
  'POST /v1/responses/input_tokens',
  'POST /v1/responses/{}/cancel',
  'POST /v1/threads',
  'POST /v1/threads/{}/messages',
  'POST /v1/threads/{}/runs',
  'POST /v1/vector_stores',
  'POST /v1/vector_stores/{}',
  'POST /v1/vector_stores/{}/files',
  'POST /v1/vector_stores/{}/files/{}',
  'POST /v1/vector_stores/{}/search',
  'POST /v2/rerank',
]);

const shape = (method: string, path: string) => `${method} ${path.replace(/\{[^}]+\}/g, '{}')}`;

describe('the route table against LiteLLM 1.108.7', () => {
  it('serves only routes LiteLLM serves (MCP aside), with the method LiteLLM serves them with', () => {
    const foreign = ROUTES.filter((r) => r.group !== 'mcp')
      .map((r) => shape(r.method, r.path))
      .filter((route) => !LITELLM_1_108_7.has(route));
    expect(foreign).toEqual([]);
  });

  it('leaves out, on purpose, the LiteLLM routes listed in the README as not served', () => {
    const served = new Set(ROUTES.map((r) => shape(r.method, r.path)));
    const left = [...LITELLM_1_108_7].filter((route) => !served.has(route));
    const prefixes = [
      '/v1/containers',
      '/v1/evals',
      '/v1/videos',
      '/v1/search',
      '/v1/rag/',
      '/v1/skills',
      '/v1/agents',
      '/v1/mcp/',
      '/v1/a2a/',
      '/v1beta/',
    ];
    const unexplained = left.filter(
      (route) => !prefixes.some((p) => route.split(' ')[1]!.startsWith(p)),
    );
    expect(unexplained).toEqual([]);
  });
});
