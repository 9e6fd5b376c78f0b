import { describe, expect, it } from 'vitest';
import { MCP_REQUEST_HEADERS, requestHeadersFor } from './request-headers.ts';

const forwarding = { for: '203.0.113.9, 10.128.0.5', proto: 'https', host: 'llm.example.com' };

describe('requestHeadersFor', () => {
  it('forwards only allowlisted headers, the checked key and the X-Forwarded-* it is given', () => {
    const out = requestHeadersFor(
      {
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        host: 'llm.example.com',
        'content-length': '123',
        expect: '100-continue',
        'accept-encoding': 'gzip',
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'user-agent': 'OpenAI/Python 1.50.0',
        'openai-beta': 'assistants=v2',
        'anthropic-version': '2023-06-01',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'x-stainless-retry-count': '0',
        cookie: 'token=ui-session',
        'openai-organization': 'org-admin',
        'x-litellm-tags': 'premium',
        'x-litellm-end-user-id': 'someone-else',
        'x-forwarded-for': '1.2.3.4',
        'x-real-ip': '1.2.3.4',
        forwarded: 'for=1.2.3.4',
        authorization: 'Bearer sk-caller',
      },
      'sk-caller',
      forwarding,
    );
    expect(out).toEqual({
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'user-agent': 'OpenAI/Python 1.50.0',
      'openai-beta': 'assistants=v2',
      'anthropic-version': '2023-06-01',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      authorization: 'Bearer sk-caller',
      'x-forwarded-for': '203.0.113.9, 10.128.0.5',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'llm.example.com',
    });
  });

  it('never forwards another credential header, only Authorization with the checked key', () => {
    const out = requestHeadersFor(
      {
        authorization: 'Basic dXNlcjpwYXNz',
        'x-litellm-api-key': 'sk-other',
        'api-key': 'sk-checked',
        'x-api-key': 'sk-other',
        'x-goog-api-key': 'sk-other',
        'ocp-apim-subscription-key': 'sk-other',
        'x-my-litellm-key': 'sk-other',
      },
      'sk-checked',
      forwarding,
    );
    expect(Object.values(out)).not.toContain('sk-other');
    expect(out.authorization).toBe('Bearer sk-checked');
    expect(Object.keys(out).sort()).toEqual([
      'authorization',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
    ]);
  });

  it('drops an allowlisted header the Connection header names', () => {
    const out = requestHeadersFor(
      { connection: 'keep-alive, User-Agent', 'user-agent': 'x', accept: '*/*' },
      'sk-1',
      forwarding,
    );
    expect(out).not.toHaveProperty('user-agent');
    expect(out.accept).toBe('*/*');
  });

  it('sends no X-Forwarded-Host for a request without Host', () => {
    const out = requestHeadersFor({}, 'sk-1', { for: '192.0.2.1', proto: 'http', host: '' });
    expect(out).toEqual({
      authorization: 'Bearer sk-1',
      'x-forwarded-for': '192.0.2.1',
      'x-forwarded-proto': 'http',
    });
  });

  it("forwards MCP's session headers only when the route's own set names them", () => {
    const mcp = {
      'mcp-session-id': 's-1',
      'mcp-protocol-version': '2025-06-18',
      'last-event-id': 'e-2',
    };
    expect(requestHeadersFor(mcp, 'sk-a', forwarding, MCP_REQUEST_HEADERS)).toMatchObject(mcp);
    const plain = requestHeadersFor(mcp, 'sk-a', forwarding);
    for (const name of Object.keys(mcp)) expect(plain).not.toHaveProperty(name);
  });

  it('leaves the incoming headers alone', () => {
    const incoming = { host: 'h', authorization: 'Bearer sk-1', connection: 'close' };
    requestHeadersFor(incoming, 'sk-1', forwarding);
    expect(incoming).toEqual({ host: 'h', authorization: 'Bearer sk-1', connection: 'close' });
  });
});
