import { describe, expect, it } from 'vitest';
import { createUpstream, requestHeadersFor, responseHeadersFor } from './upstream.ts';

const HOP_BY_HOP = {
  connection: 'keep-alive',
  'keep-alive': 'timeout=5',
  'proxy-connection': 'keep-alive',
  'proxy-authenticate': 'Basic',
  'proxy-authorization': 'Basic cHJveHk6cHc=',
  te: 'trailers',
  trailer: 'x-checksum',
  'transfer-encoding': 'chunked',
  upgrade: 'h2c',
};

describe('requestHeadersFor', () => {
  it('drops hop-by-hop headers, host, content-length and expect, and keeps the rest', () => {
    const out = requestHeadersFor(
      {
        ...HOP_BY_HOP,
        host: 'llm.apps.example.com',
        'content-length': '123',
        expect: '100-continue',
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'user-agent': 'OpenAI/Python 1.50.0',
        'x-stainless-retry-count': '0',
        'set-cookie-like': ['a', 'b'],
        authorization: 'Bearer sk-caller',
      },
      'sk-caller',
    );
    expect(out).toEqual({
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'user-agent': 'OpenAI/Python 1.50.0',
      'x-stainless-retry-count': '0',
      'set-cookie-like': ['a', 'b'],
      authorization: 'Bearer sk-caller',
    });
  });

  it('drops the headers the Connection header names', () => {
    const out = requestHeadersFor(
      { connection: 'keep-alive, X-Hop , x-other', 'x-hop': '1', 'x-other': '2', 'x-end': '3' },
      'sk-1',
    );
    expect(out).toEqual({ 'x-end': '3', authorization: 'Bearer sk-1' });
  });

  it('sends the key as a Bearer authorization even when it came as api-key', () => {
    const out = requestHeadersFor(
      { 'api-key': 'sk-azure', 'content-type': 'application/json' },
      'sk-azure',
    );
    expect(out.authorization).toBe('Bearer sk-azure');
  });

  it('replaces whatever authorization the caller sent with the key', () => {
    const out = requestHeadersFor(
      { authorization: 'Basic dXNlcjpwYXNz', 'api-key': 'sk-2' },
      'sk-2',
    );
    expect(out.authorization).toBe('Bearer sk-2');
  });

  it('leaves the incoming headers alone', () => {
    const incoming = { host: 'h', authorization: 'Bearer sk-1', connection: 'close' };
    requestHeadersFor(incoming, 'sk-1');
    expect(incoming).toEqual({ host: 'h', authorization: 'Bearer sk-1', connection: 'close' });
  });
});

describe('responseHeadersFor', () => {
  const upstream = {
    ...HOP_BY_HOP,
    'content-type': 'application/json',
    'content-length': '512',
    'x-litellm-call-id': 'abc',
    'set-cookie': ['a=1', 'b=2'],
    'x-absent': undefined,
  };

  it('drops hop-by-hop headers and keeps content-length of an untouched body', () => {
    expect(responseHeadersFor(upstream, false)).toEqual({
      'content-type': 'application/json',
      'content-length': '512',
      'x-litellm-call-id': 'abc',
      'set-cookie': ['a=1', 'b=2'],
    });
  });

  it('drops content-length when the body is rewritten', () => {
    const out = responseHeadersFor(upstream, true);
    expect(out).not.toHaveProperty('content-length');
    expect(out).toEqual({
      'content-type': 'application/json',
      'x-litellm-call-id': 'abc',
      'set-cookie': ['a=1', 'b=2'],
    });
  });

  it('drops the headers the Connection header names', () => {
    expect(
      responseHeadersFor({ connection: ['close', 'x-hop'], 'x-hop': '1', 'x-keep': '2' }, false),
    ).toEqual({ 'x-keep': '2' });
  });
});

describe('createUpstream', () => {
  it('keeps the path of the base URL as the prefix of every forwarded path', async () => {
    const options = { connectTimeoutMs: 1_000, headersTimeoutMs: 2_000, idleTimeoutMs: 3_000 };
    const bare = createUpstream({ ...options, url: 'http://litellm:4000' });
    const prefixed = createUpstream({ ...options, url: 'https://example.com/litellm//' });
    try {
      expect(bare.basePath).toBe('');
      expect(prefixed.basePath).toBe('/litellm');
      expect(bare.headersTimeoutMs).toBe(2_000);
      expect(bare.idleTimeoutMs).toBe(3_000);
    } finally {
      await bare.close();
      await prefixed.close();
    }
  });
});
