import { Readable } from 'node:stream';
import { refusal } from '../../../test/fixtures/refusal.ts';
import { describe, expect, it } from 'vitest';
import { OpenAIError } from '../errors/openai-error.ts';
import type { Upstream } from '../proxy/upstream.ts';
import { batchRequestOf, checkBatchInput } from './batch-input-models.ts';

const line = (model: string, url = '/v1/chat/completions') =>
  JSON.stringify({ custom_id: model, method: 'POST', url, body: { model } });

/** An upstream answering the file's content in `size`-byte chunks, recording what was asked. */
function upstreamWith(content: string, size: number, status = 200) {
  const asked: { path: string; authorization: string }[] = [];
  const bytes = Buffer.from(content);
  const upstream = {
    basePath: '/litellm',
    headersTimeoutMs: 1000,
    idleTimeoutMs: 1000,
    pool: {
      request: async (options: { path: string; headers: { authorization: string } }) => {
        asked.push({ path: options.path, authorization: options.headers.authorization });
        const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
          bytes.subarray(i * size, (i + 1) * size),
        );
        const body = Object.assign(Readable.from(chunks), { dump: async () => {} });
        return { statusCode: status, headers: {}, body };
      },
    },
  } as unknown as Upstream;
  return { upstream, asked };
}

const batch = { inputFileId: 'file/1', endpoint: '/v1/chat/completions' };

describe('checkBatchInput', () => {
  it("reads the file with the caller's key and accepts lines split anywhere, CRLF and blank lines", async () => {
    const content = `${line('a')}\r\n\n${line('b')}\n${line('a')}`;
    for (const size of [1, 5, 1 << 16]) {
      const { upstream, asked } = upstreamWith(content, size);
      await checkBatchInput(batch, 'sk-1', ['a', 'b'], upstream, 1 << 20);
      expect(asked).toEqual([
        { path: '/litellm/v1/files/file%2F1/content', authorization: 'Bearer sk-1' },
      ]);
    }
  });

  it('refuses the first line naming a model the key does not reach, even at the very end', async () => {
    const { upstream } = upstreamWith(`${line('a')}\n${line('secret')}`, 3);
    const error = await refusal(checkBatchInput(batch, 'sk-1', ['a'], upstream, 1 << 20));
    expect(error.statusCode).toBe(403);
    expect(error.message).toContain("'secret'");
  });

  it('refuses a line to another endpoint, without a model, not JSON, or longer than the limit', async () => {
    for (const content of [
      line('a', '/v1/embeddings'),
      JSON.stringify({ method: 'POST', url: '/v1/chat/completions', body: {} }),
      '{"method":',
      line('a'.repeat(200)),
    ]) {
      const { upstream } = upstreamWith(content, 16);
      const error = await refusal(
        checkBatchInput(batch, 'sk-1', ['a', 'a'.repeat(200)], upstream, 100),
      );
      expect(error.statusCode, content).toBe(400);
      expect(error.param).toBe('input_file_id');
    }
  });

  it('refuses a file LiteLLM does not give back', async () => {
    const { upstream } = upstreamWith('{"error":{}}', 100, 404);
    expect((await refusal(checkBatchInput(batch, 'sk-1', ['a'], upstream, 1024))).statusCode).toBe(
      400,
    );
  });
});

describe('batchRequestOf', () => {
  it('takes the input file and an endpoint that is a model route', () => {
    expect(batchRequestOf({ input_file_id: 'f', endpoint: '/v1/embeddings' })).toEqual({
      inputFileId: 'f',
      endpoint: '/v1/embeddings',
    });
    expect(() => batchRequestOf({ endpoint: '/v1/embeddings' })).toThrow('input file');
    expect(() => batchRequestOf({ input_file_id: 'f', endpoint: '/v1/files' })).toThrow('endpoint');
    expect(() => batchRequestOf(undefined)).toThrow(OpenAIError);
  });
});
