import { describe, expect, it } from 'vitest';
import { UsageTap, usageInJson, type Usage } from './usage-tap.ts';

/** Writes `chunks` through a new tap; what came out, and the usage it read. */
async function run(
  mode: 'json' | 'sse',
  chunks: readonly (string | Buffer)[],
  stripUsage = false,
): Promise<{ usage: Usage | undefined; out: Buffer }> {
  const tap = new UsageTap(mode, stripUsage);
  const out: Buffer[] = [];
  tap.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    tap.once('end', resolve);
    tap.once('error', reject);
  });
  for (const chunk of chunks) tap.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  tap.end();
  await ended;
  return { usage: tap.usage, out: Buffer.concat(out) };
}

/** `body` cut at the given byte offsets. */
function cutAt(body: Buffer, ...offsets: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const at of offsets) {
    pieces.push(body.subarray(from, at));
    from = at;
  }
  pieces.push(body.subarray(from));
  return pieces;
}

/** `body` one byte per chunk. */
const bytewise = (body: Buffer) => [...body].map((b) => Buffer.from([b]));

const usage = (promptTokens: number, completionTokens: number, totalTokens?: number): Usage => ({
  promptTokens,
  completionTokens,
  totalTokens: totalTokens ?? promptTokens + completionTokens,
});

const completion = (content: string, u: object | null = null) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'granite-3-8b',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    ...(u ? { usage: u } : {}),
  });

const chunk = (content: string | undefined, u?: object | null, finish?: string) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    model: 'granite-3-8b',
    choices:
      content === undefined
        ? []
        : [{ index: 0, delta: { content }, finish_reason: finish ?? null }],
    ...(u !== undefined ? { usage: u } : {}),
  });

const event = (data: string, sep = '\n\n') => `data: ${data}${sep}`;

describe('UsageTap (json)', () => {
  const body = Buffer.from(
    completion('Héllo 🎉 wörld', { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 }),
  );

  it('reads usage and passes the body through untouched', async () => {
    const { usage: u, out } = await run('json', [body]);
    expect(u).toEqual(usage(12, 7, 19));
    expect(out.equals(body)).toBe(true);
  });

  it('reads usage wherever the chunks are cut', async () => {
    const key = body.indexOf('"usage"');
    const emoji = body.indexOf('🎉');
    for (const offsets of [
      [key + 3], // inside "usage"
      [key + 7, key + 9], // between key, colon and brace
      [emoji + 1, emoji + 2, emoji + 3], // inside a 4-byte character
      [body.length - 1], // before the last brace
      [1, body.length - 20, body.length - 2],
    ]) {
      const { usage: u, out } = await run('json', cutAt(body, ...offsets));
      expect(u, String(offsets)).toEqual(usage(12, 7, 19));
      expect(out.equals(body)).toBe(true);
    }
    const { usage: u } = await run('json', bytewise(body));
    expect(u).toEqual(usage(12, 7, 19));
  });

  it('is not confused by "usage" inside a message', async () => {
    const trap = 'Your "usage": {"prompt_tokens": 999, "completion_tokens": 999} was high';
    // A string value "usage", and usage before the choices (not where LiteLLM puts it).
    const before = JSON.stringify({
      usage: { prompt_tokens: 3, completion_tokens: 4 },
      choices: [{ message: { content: trap } }, { message: { content: 'usage' } }],
    });
    const after = completion(trap, { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 });
    expect((await run('json', [before])).usage).toEqual(usage(3, 4));
    expect((await run('json', [after])).usage).toEqual(usage(5, 6, 11));
    expect((await run('json', bytewise(Buffer.from(after)))).usage).toEqual(usage(5, 6, 11));
  });

  it('reads usage with nested details and strings holding braces', async () => {
    const nested = completion('ok', {
      prompt_tokens: 100,
      completion_tokens: 50,
      total_tokens: 150,
      prompt_tokens_details: { cached_tokens: 80, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 30, accepted_prediction_tokens: 0 },
      note: 'a } and a { and a \\ and a "quote"}',
    });
    const { usage: u } = await run('json', cutAt(Buffer.from(nested), nested.length - 30));
    expect(u).toEqual(usage(100, 50, 150));
  });

  it('adds up the total when the answer has none (an embedding has no completion)', async () => {
    const embedding = JSON.stringify({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2] }],
      model: 'granite-embedding',
      usage: { prompt_tokens: 8 },
    });
    expect((await run('json', [embedding])).usage).toEqual(usage(8, 0));
  });

  it('has no usage when the answer carries none', async () => {
    expect((await run('json', [completion('hi')])).usage).toBeUndefined();
    expect((await run('json', [])).usage).toBeUndefined();
  });

  it('gives no usage, rather than failing, for a body over its bound', async () => {
    const padding = 'x'.repeat(16 * 1024 * 1024);
    const big = Buffer.from(
      completion(padding, { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }),
    );
    const { usage: u, out } = await run('json', cutAt(big, 1024, big.length - 64));
    expect(u).toBeUndefined();
    expect(out.length).toBe(big.length);
    expect(out.equals(big)).toBe(true);
  });
});

describe('UsageTap (sse)', () => {
  const stream = [
    event(chunk('Hel')),
    event(chunk('lo 🎉')),
    event(chunk('', undefined, 'stop')),
    event(chunk(undefined, { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 })),
    event('[DONE]'),
  ].join('');
  const bytes = Buffer.from(stream);

  it('reads the usage of the last chunk and forwards the bytes as they came', async () => {
    const chunks = cutAt(bytes, 10, 200, 201);
    const { usage: u, out } = await run('sse', chunks);
    expect(u).toEqual(usage(9, 3, 12));
    expect(out.equals(bytes)).toBe(true);
  });

  it('reads events split across chunks and inside multi-byte characters', async () => {
    const emoji = bytes.indexOf('🎉');
    const key = bytes.indexOf('"usage"');
    for (const offsets of [
      [emoji + 1],
      [emoji + 2, key + 1],
      [key + 4, bytes.indexOf('\n\n', key) + 1], // between the two newlines ending the event
    ]) {
      const { usage: u, out } = await run('sse', cutAt(bytes, ...offsets));
      expect(u, String(offsets)).toEqual(usage(9, 3, 12));
      expect(out.equals(bytes)).toBe(true);
    }
    const { usage: u, out } = await run('sse', bytewise(bytes));
    expect(u).toEqual(usage(9, 3, 12));
    expect(out.equals(bytes)).toBe(true);
  });

  it('reads events separated by \\r\\n\\r\\n', async () => {
    const crlf = [
      event(chunk('hi'), '\r\n\r\n'),
      event(chunk(undefined, { prompt_tokens: 4, completion_tokens: 1 }), '\r\n\r\n'),
      event('[DONE]', '\r\n\r\n'),
    ].join('');
    const body = Buffer.from(crlf);
    const { usage: u, out } = await run('sse', bytewise(body));
    expect(u).toEqual(usage(4, 1));
    expect(out.equals(body)).toBe(true);
    // Rewriting: the usage-only event goes, the others stay as they were.
    const stripped = await run('sse', bytewise(body), true);
    expect(stripped.usage).toEqual(usage(4, 1));
    expect(stripped.out.toString()).toBe(
      event(chunk('hi'), '\r\n\r\n') + event('[DONE]', '\r\n\r\n'),
    );
  });

  it('keeps the last usage seen', async () => {
    const body = [
      event(chunk('a', { prompt_tokens: 1, completion_tokens: 1 })),
      event(chunk('b', null)),
      event(chunk(undefined, { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 })),
      event('[DONE]'),
    ].join('');
    expect((await run('sse', [body])).usage).toEqual(usage(10, 20, 30));
  });

  it('ignores null usage and "usage" inside content', async () => {
    const body = [
      event(chunk('the "usage" field', null)),
      event(chunk('"usage": {"prompt_tokens": 5}')),
      event('[DONE]'),
    ].join('');
    const { usage: u, out } = await run('sse', [body], true);
    expect(u).toBeUndefined();
    expect(out.toString()).toBe(
      [
        event(chunk('the "usage" field')),
        event(chunk('"usage": {"prompt_tokens": 5}')),
        event('[DONE]'),
      ].join(''),
    );
  });

  it('reads an event the stream ends without a blank line after', async () => {
    const body =
      event(chunk('x')) + `data: ${chunk(undefined, { prompt_tokens: 2, completion_tokens: 2 })}`;
    const { usage: u, out } = await run('sse', cutAt(Buffer.from(body), body.length - 5));
    expect(u).toEqual(usage(2, 2));
    expect(out.toString()).toBe(body);
    const stripped = await run('sse', cutAt(Buffer.from(body), body.length - 5), true);
    expect(stripped.usage).toEqual(usage(2, 2));
    expect(stripped.out.toString()).toBe(event(chunk('x')));
  });

  it('reads data split over several data: lines', async () => {
    const body =
      'data: {"choices":[],\ndata: "usage":{"prompt_tokens":6,"completion_tokens":1}}\n\n' +
      event('[DONE]');
    expect((await run('sse', [body])).usage).toEqual(usage(6, 1));
  });

  it('passes events that are not JSON', async () => {
    const body = ': keep-alive "usage"\n\n' + 'data: "usage" {not json\n\n' + event('[DONE]');
    const { usage: u, out } = await run('sse', [body], true);
    expect(u).toBeUndefined();
    expect(out.toString()).toBe(body);
  });

  describe('stripUsage', () => {
    it('drops the usage-only chunk and removes usage from chunks with choices', async () => {
      // OpenAI with include_usage: "usage": null on every chunk, then a usage-only chunk.
      const asked = [
        event(chunk('Hel', null)),
        event(chunk('lo 🎉', null)),
        event(chunk('', null, 'stop')),
        event(chunk(undefined, { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 })),
        event('[DONE]'),
      ].join('');
      const expected = [
        event(chunk('Hel')),
        event(chunk('lo 🎉')),
        event(chunk('', undefined, 'stop')),
        event('[DONE]'),
      ].join('');
      const body = Buffer.from(asked);
      const emoji = body.indexOf('🎉');
      for (const chunks of [[body], cutAt(body, emoji + 1, emoji + 3), bytewise(body)]) {
        const { usage: u, out } = await run('sse', chunks, true);
        expect(u).toEqual(usage(9, 3, 12));
        expect(out.toString()).toBe(expected);
      }
    });

    it('removes usage from a last chunk that also has choices (LiteLLM)', async () => {
      const body = [
        event(chunk('a')),
        event(chunk('', { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 }, 'stop')),
        event('[DONE]'),
      ].join('');
      const { usage: u, out } = await run('sse', [body], true);
      expect(u).toEqual(usage(7, 2, 9));
      const events = out.toString().split('\n\n');
      expect(events).toHaveLength(4);
      expect(JSON.parse(events[1]!.slice('data: '.length))).toEqual(
        JSON.parse(chunk('', undefined, 'stop')),
      );
      expect(events[2]).toBe('data: [DONE]');
    });

    it("reads the Responses API's usage from response.completed and passes it on", async () => {
      const response = (status: string, u: unknown) => ({
        id: 'resp_1',
        object: 'response',
        status,
        output: [],
        usage: u,
      });
      const body = [
        'event: response.created\n' +
          `data: ${JSON.stringify({ type: 'response.created', response: response('in_progress', null) })}\n\n`,
        'event: response.output_text.delta\n' +
          'data: {"type":"response.output_text.delta","delta":"\\"usage\\": hi"}\n\n',
        'event: response.completed\n' +
          `data: ${JSON.stringify({
            type: 'response.completed',
            response: response('completed', {
              input_tokens: 5,
              output_tokens: 7,
              total_tokens: 12,
            }),
          })}\n\n`,
      ].join('');
      const { out, usage: u } = await run('sse', bytewise(Buffer.from(body)), true);
      expect(out.toString()).toBe(body);
      expect(u).toEqual(usage(5, 7, 12));
    });

    it('reads a completions stream with usage on its last chunk', async () => {
      const body =
        'data: {"object":"text_completion","choices":[{"index":0,"text":"echo"}]}\n\n' +
        'data: {"object":"text_completion","choices":[],"usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}}\n\n' +
        'data: [DONE]\n\n';
      const { out, usage: u } = await run('sse', [body], true);
      expect(u).toEqual(usage(2, 3, 5));
      expect(out.toString()).not.toContain('usage');
    });

    it('keeps usage in events that are not OpenAI chunks (Anthropic messages)', async () => {
      const body = [
        'event: message_start\n' +
          'data: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":25,"output_tokens":1}}}\n\n',
        'event: content_block_delta\n' +
          'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n',
        'event: message_delta\n' +
          'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}\n\n',
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
      ].join('');
      const { out, usage: u } = await run('sse', [body], true);
      expect(out.toString()).toBe(body);
      // Input tokens from message_start, output tokens from message_delta.
      expect(u).toEqual(usage(25, 15, 40));
    });
  });
});

describe('usageInJson', () => {
  const read = (text: string) => usageInJson(Buffer.from(text));

  it("reads Anthropic's input_tokens and output_tokens", () => {
    expect(read('{"type":"message","usage":{"input_tokens":12,"output_tokens":30}}')).toEqual(
      usage(12, 30, 42),
    );
  });

  it('reads the last usage key of a body', () => {
    expect(read('{"usage":{"prompt_tokens":1},"x":{"usage":{"prompt_tokens":2}}}')).toEqual(
      usage(2, 0),
    );
    expect(read('{ "usage" :\n\t{ "prompt_tokens" : 3 , "completion_tokens" : 4 } }')).toEqual(
      usage(3, 4),
    );
  });

  it('skips a string value "usage" to find the key before it', () => {
    expect(read('{"usage":{"prompt_tokens":2,"completion_tokens":1},"tags":["usage"]}')).toEqual(
      usage(2, 1),
    );
    expect(read('{"usage":{"prompt_tokens":2},"content":"usage","more":{"a":1}}')).toEqual(
      usage(2, 0),
    );
    expect(read('{"content":"usage","more":{"prompt_tokens":5}}')).toBeUndefined();
  });

  it('handles escaped quotes and backslashes inside usage strings', () => {
    expect(
      read('{"usage":{"path":"C:\\\\","q":"\\"}","prompt_tokens":5,"completion_tokens":6}}'),
    ).toEqual(usage(5, 6));
  });

  it('is undefined for a usage that is not an object, cut off or malformed', () => {
    expect(read('{"usage":null,"other":{"prompt_tokens":1}}')).toBeUndefined();
    expect(read('{"usage":{"prompt_tokens":1,')).toBeUndefined();
    expect(read('{"usage":{"prompt_tokens":1,}}')).toBeUndefined();
    expect(read('{"usage"')).toBeUndefined();
    expect(read('"usage"')).toBeUndefined();
    expect(read('')).toBeUndefined();
  });

  it('counts missing, negative or non-numeric token counts as 0', () => {
    expect(
      read('{"usage":{"prompt_tokens":"12","completion_tokens":-3,"total_tokens":null}}'),
    ).toEqual(usage(0, 0, 0));
  });

  it('skips "usage" keys that hold no token counts, so a caller cannot hide the real usage', () => {
    // Responses API: metadata (strings only) and an echoed JSON schema after the usage.
    const response = JSON.stringify({
      id: 'resp_1',
      object: 'response',
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi' }] }],
      usage: { input_tokens: 11, output_tokens: 4, total_tokens: 15 },
      text: {
        format: {
          type: 'json_schema',
          schema: { properties: { usage: { type: 'object', properties: {} } } },
        },
      },
      metadata: { usage: 'none' },
    });
    expect(read(response)).toEqual(usage(11, 4, 15));
    expect(read('{"usage":{}}')).toBeUndefined();
  });

  it("reads the Responses API's usage", () => {
    const response = JSON.stringify({
      id: 'resp_1',
      object: 'response',
      status: 'completed',
      output: [],
      usage: {
        input_tokens: 36,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 87,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 123,
      },
    });
    expect(read(response)).toEqual(usage(36, 87, 123));
  });

  it('prefers the reported total over the sum', () => {
    expect(read('{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":10}}')).toEqual(
      usage(1, 2, 10),
    );
  });
});
