import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { OpenAIError } from '../errors/openai-error.ts';
import { ByteLimit } from './byte-limit.ts';

const chunks = (...sizes: number[]) => Readable.from(sizes.map((n) => Buffer.alloc(n, 1)));

async function collect(limit: ByteLimit, source: Readable): Promise<number> {
  let bytes = 0;
  await pipeline(source, limit, async (stream: AsyncIterable<Buffer>) => {
    for await (const chunk of stream) bytes += chunk.length;
  });
  return bytes;
}

describe('ByteLimit', () => {
  it('passes a body of exactly the limit unchanged', async () => {
    const limit = new ByteLimit(1024);
    expect(await collect(limit, chunks(512, 256, 256))).toBe(1024);
    expect(limit.exceeded).toBeUndefined();
  });

  it('fails with a 413 that closes the connection at the first byte over the limit', async () => {
    const limit = new ByteLimit(1024);
    const failure = await collect(limit, chunks(512, 512, 1)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(OpenAIError);
    expect(failure).toMatchObject({ statusCode: 413, reason: 'body_too_large' });
    expect((failure as OpenAIError).headers).toEqual({ connection: 'close' });
    expect(limit.exceeded).toBe(failure);
  });

  it('does not call another failure exceeded', () => {
    const limit = new ByteLimit(1024);
    limit.destroy(new Error('the request body was cut off'));
    expect(limit.exceeded).toBeUndefined();
  });
});
