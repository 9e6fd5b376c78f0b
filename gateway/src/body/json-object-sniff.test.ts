import { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { sniffJsonObject } from './json-object-sniff.ts';

/** A stream that gets `chunks`, one per tick, then ends. */
function body(chunks: string[]): PassThrough {
  const stream = new PassThrough();
  void (async () => {
    for (const chunk of chunks) {
      await new Promise((resolve) => setImmediate(resolve));
      stream.write(Buffer.from(chunk));
    }
    stream.end();
  })();
  return stream;
}

describe('sniffJsonObject', () => {
  it('finds a JSON object after whitespace split over chunks, and puts every byte back', async () => {
    const stream = body([' \r\n', '\t', '{"model":"m"}']);
    expect(await sniffJsonObject(stream)).toBe('json-object');
    expect((await buffer(stream)).toString()).toBe(' \r\n\t{"model":"m"}');
  });

  it('lets any other body stream on unchanged', async () => {
    const stream = body(['  v=0\r\n', 'o=- 1 2 IN IP4 127.0.0.1']);
    expect(await sniffJsonObject(stream)).toBe('other');
    expect((await buffer(stream)).toString()).toBe('  v=0\r\no=- 1 2 IN IP4 127.0.0.1');
  });

  it('tells a body of whitespace only, and an empty one', async () => {
    expect(await sniffJsonObject(body([' ', '\n']))).toBe('blank');
    expect(await sniffJsonObject(body([]))).toBe('other');
  });
});
