import { describe, expect, it } from 'vitest';
import {
  MCP_RESPONSE_HEADERS,
  publicLocation,
  responseHeadersFor,
  type LocationContext,
} from './response-headers.ts';

describe('responseHeadersFor', () => {
  const litellm = {
    connection: 'keep-alive',
    'transfer-encoding': 'chunked',
    'content-type': 'application/json',
    'content-length': '512',
    'x-litellm-call-id': 'abc',
    'x-litellm-response-cost': '0.00012',
    'x-litellm-model-api-base': 'http://vllm.models.svc:8000/v1',
    'x-litellm-model-id': '6d3c…',
    'x-litellm-version': '1.108.7',
    'x-litellm-key-tpm-limit': '1000',
    'llm_provider-x-ratelimit-remaining-requests': '499',
    'llm_provider-openai-organization': 'org-platform',
    'x-ratelimit-remaining-requests': '499',
    server: 'uvicorn',
    'set-cookie': ['token=ui'],
    'retry-after': '3',
    'x-absent': undefined,
  };

  it('passes allowlisted headers only: nothing naming hosts, versions or the provider', () => {
    expect(responseHeadersFor(litellm, false)).toEqual({
      'content-type': 'application/json',
      'content-length': '512',
      'x-litellm-call-id': 'abc',
      'x-litellm-response-cost': '0.00012',
      'retry-after': '3',
    });
  });

  it("passes MCP's session id back only when the route's own set names it", () => {
    const answer = { 'content-type': 'application/json', 'mcp-session-id': 's-1' };
    expect(responseHeadersFor(answer, false, MCP_RESPONSE_HEADERS)).toEqual(answer);
    expect(responseHeadersFor(answer, false)).toEqual({ 'content-type': 'application/json' });
  });

  it('drops content-length when the body is rewritten', () => {
    expect(responseHeadersFor(litellm, true)).not.toHaveProperty('content-length');
  });

  it('drops an allowlisted header the Connection header names', () => {
    expect(
      responseHeadersFor(
        {
          connection: ['close', 'cache-control'],
          'cache-control': 'no-cache',
          'x-request-id': '1',
        },
        false,
      ),
    ).toEqual({ 'x-request-id': '1' });
  });
});

describe('publicLocation', () => {
  const context = (basePath = ''): LocationContext => ({
    upstreamOrigin: 'http://litellm.litellm.svc:4000',
    upstreamBasePath: basePath,
    requestUrl: '/v1/chat/completions/',
    publicOrigin: () => 'https://llm.example.com',
  });

  it("rewrites a Location into LiteLLM to the gateway's public URL", () => {
    expect(
      publicLocation('http://litellm.litellm.svc:4000/v1/chat/completions?x=1', context()),
    ).toBe('https://llm.example.com/v1/chat/completions?x=1');
    expect(publicLocation('/v1/files/file-1', context())).toBe(
      'https://llm.example.com/v1/files/file-1',
    );
    expect(publicLocation('../models', context())).toBe('https://llm.example.com/v1/chat/models');
  });

  it("strips LiteLLM's base path, and drops a Location outside it", () => {
    expect(
      publicLocation('http://litellm.litellm.svc:4000/litellm/v1/models', context('/litellm')),
    ).toBe('https://llm.example.com/v1/models');
    expect(publicLocation('/ui/login', context('/litellm'))).toBeUndefined();
  });

  it('drops a Location to any other host: it may name an internal one', () => {
    expect(publicLocation('http://minio.storage.svc:9000/bucket/f', context())).toBeUndefined();
    expect(publicLocation('https://litellm.litellm.svc:4000/v1/x', context())).toBeUndefined();
    expect(publicLocation('http://[bad', context())).toBeUndefined();
  });
});
