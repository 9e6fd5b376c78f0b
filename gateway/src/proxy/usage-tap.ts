// Reads token usage out of an answer while it passes through, without holding the answer up.
//
// - JSON answers: the chunks are kept (up to a bound) and `usage` is read at the end.
//   Nothing changes on the way, so the scanner only listens to the answer's 'data' events
//   (no stream in between: one less hop per chunk).
// - Server-sent events: each complete event is inspected as it passes; the last `usage` seen
//   wins (OpenAI and LiteLLM put it in the last data chunk when the request asks for
//   `stream_options.include_usage`; the Responses API in its `response.completed` event). When the gateway added that option itself, the caller did
//   not ask for usage chunks: a usage-only chunk is dropped and `usage` is removed from a chunk
//   that also carries choices, so the caller sees the stream it asked for.
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** Largest JSON answer kept to read its usage; beyond it usage is unknown (counted as 0). */
const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** Longest incomplete event held back; a stream without event boundaries is passed on as is. */
const MAX_PENDING_CHARS = 1024 * 1024;

/**
 * The reading itself, fed chunk by chunk: `write` returns what to pass on (the chunk itself,
 * unless usage chunks are being stripped), `end` what is left at the end.
 */
export class UsageScanner {
  usage: Usage | undefined;
  readonly #mode: 'json' | 'sse';
  readonly #stripUsage: boolean;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #decoder: StringDecoder | undefined;
  #pending = '';

  /** `stripUsage` (SSE only): the gateway asked for usage chunks the caller did not want. */
  constructor(mode: 'json' | 'sse', stripUsage = false) {
    this.#mode = mode;
    this.#stripUsage = mode === 'sse' && stripUsage;
  }

  write(chunk: Buffer): Buffer | string {
    if (this.#mode === 'json') {
      this.#bytes += chunk.length;
      if (this.#bytes <= MAX_JSON_BYTES) this.#chunks.push(chunk);
      else this.#chunks = [];
      return chunk;
    }
    this.#decoder ??= new StringDecoder('utf8');
    if (!this.#stripUsage) {
      // Pass the bytes on as they came; inspect a decoded copy.
      this.#scanEvents(this.#decoder.write(chunk), false);
      return chunk;
    }
    return this.#scanEvents(this.#decoder.write(chunk), true);
  }

  end(): string {
    if (this.#mode === 'json') {
      if (this.#bytes <= MAX_JSON_BYTES) this.usage = usageInJson(Buffer.concat(this.#chunks));
      this.#chunks = [];
      return '';
    }
    const rest = this.#pending + (this.#decoder?.end() ?? '');
    this.#pending = '';
    if (rest.length === 0) return '';
    const out = this.#inspectEvent(rest, this.#stripUsage);
    return this.#stripUsage ? out : '';
  }

  /** Splits complete events off `text`; returns what to forward when rewriting. */
  #scanEvents(text: string, rewrite: boolean): string {
    let buffer = this.#pending + text;
    let out = '';
    for (;;) {
      const end = eventEnd(buffer);
      if (end === undefined) break;
      const event = buffer.slice(0, end.index + end.length);
      buffer = buffer.slice(end.index + end.length);
      out += this.#inspectEvent(event, rewrite);
    }
    if (buffer.length > MAX_PENDING_CHARS) {
      // Not events as we know them: stop holding it back (and stop looking for usage in it).
      out += buffer;
      buffer = '';
    }
    this.#pending = buffer;
    return out;
  }

  /** Records usage from one event; returns the event as it should be forwarded. */
  #inspectEvent(event: string, rewrite: boolean): string {
    if (!event.includes('"usage"')) return event;
    const data = dataOf(event);
    if (data === undefined || data === '[DONE]') return event;
    let parsed: { usage?: unknown; choices?: unknown };
    try {
      parsed = JSON.parse(data) as typeof parsed;
    } catch {
      return event;
    }
    // OpenAI chunks carry `usage`; Anthropic's message_start its `message.usage`; the
    // Responses API's response.completed (and .incomplete, .failed) its `response.usage`.
    const usage =
      toUsage(parsed.usage) ??
      toUsage((parsed as { message?: { usage?: unknown } }).message?.usage) ??
      toUsage((parsed as { response?: { usage?: unknown } }).response?.usage);
    if (usage) this.usage = mergeUsage(this.usage, usage);
    // Only OpenAI chunks (they carry `choices`) got usage because the gateway asked for it;
    // other streams (Anthropic's /v1/messages) always carry it and keep it.
    if (!rewrite || parsed.usage === undefined || !Array.isArray(parsed.choices)) return event;
    if (parsed.choices.length === 0) return '';
    delete parsed.usage;
    return `data: ${JSON.stringify(parsed)}\n\n`;
  }
}

/** A UsageScanner as a stream, for answers whose bytes change on the way (stripUsage). */
export class UsageTap extends Transform {
  readonly scanner: UsageScanner;

  constructor(mode: 'json' | 'sse', stripUsage = false) {
    super();
    this.scanner = new UsageScanner(mode, stripUsage);
  }

  get usage(): Usage | undefined {
    return this.scanner.usage;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const out = this.scanner.write(chunk);
    done(null, out.length > 0 ? out : undefined);
  }

  override _flush(done: TransformCallback): void {
    const out = this.scanner.end();
    done(null, out.length > 0 ? out : undefined);
  }
}

function eventEnd(buffer: string): { index: number; length: number } | undefined {
  const lf = buffer.indexOf('\n\n');
  const crlf = buffer.indexOf('\r\n\r\n');
  if (lf === -1 && crlf === -1) return undefined;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { index: crlf, length: 4 };
  return { index: lf, length: 2 };
}

/** The data of an SSE event (its `data:` lines joined), or undefined. */
function dataOf(event: string): string | undefined {
  const lines = event.split(/\r?\n/).filter((l) => l.startsWith('data:'));
  if (lines.length === 0) return undefined;
  return lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n');
}

/** Most "usage" keys tried, from the end, before a JSON answer's usage counts as unknown. */
const MAX_USAGE_CANDIDATES = 16;

/**
 * `usage` of a JSON answer: found from the end, where OpenAI and LiteLLM put it (chat,
 * completions, embeddings, and the Responses API's `response.usage`). A "usage" key whose
 * value is no usage object (a string in `metadata`, an object without token counts such as a
 * caller's JSON schema echoed after it) is skipped, so a caller cannot hide the real one.
 */
export function usageInJson(body: Buffer): Usage | undefined {
  let at = body.length;
  for (let tried = 0; tried < MAX_USAGE_CANDIDATES;) {
    at = at > 0 ? body.lastIndexOf('"usage"', at - 1) : -1;
    if (at === -1) return undefined;
    // A key is followed by a colon (a string value "usage" is not).
    const colon = afterSpace(body, at + 7);
    if (body[colon] !== 0x3a) continue;
    tried++;
    const start = afterSpace(body, colon + 1);
    if (body[start] !== 0x7b) continue; // not an object: null, a string, or cut off
    const end = matchingBrace(body, start);
    if (end === undefined) continue;
    let value: unknown;
    try {
      value = JSON.parse(body.subarray(start, end + 1).toString('utf8'));
    } catch {
      continue;
    }
    if (hasTokenCount(value)) return toUsage(value);
  }
  return undefined;
}

/** True for an object carrying at least one token count (OpenAI's or Anthropic's names). */
function hasTokenCount(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const u = value as Record<string, unknown>;
  return [
    u.prompt_tokens,
    u.completion_tokens,
    u.total_tokens,
    u.input_tokens,
    u.output_tokens,
  ].some((n) => typeof n === 'number');
}

/** Index of the first byte from `i` on that is not JSON white space. */
function afterSpace(body: Buffer, i: number): number {
  while (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09) i++;
  return i;
}

/** Index of the `}` closing the object opened at `start`, skipping strings. */
function matchingBrace(body: Buffer, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return i;
  }
  return undefined;
}

/**
 * Token usage in OpenAI's names (prompt/completion/total_tokens) or Anthropic's, which
 * LiteLLM's /v1/messages passes on (input_tokens/output_tokens, no total).
 */
function toUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  const promptTokens = count(u.prompt_tokens ?? u.input_tokens);
  const completionTokens = count(u.completion_tokens ?? u.output_tokens);
  const total = count(u.total_tokens);
  return {
    promptTokens,
    completionTokens,
    totalTokens: total > 0 ? total : promptTokens + completionTokens,
  };
}

/**
 * Usage reported in several events of one stream: OpenAI sends it once; Anthropic sends the
 * input tokens in message_start and the (cumulative) output tokens in message_delta. Keeping
 * the larger of each count serves both.
 */
function mergeUsage(seen: Usage | undefined, next: Usage): Usage {
  if (!seen) return next;
  const promptTokens = Math.max(seen.promptTokens, next.promptTokens);
  const completionTokens = Math.max(seen.completionTokens, next.completionTokens);
  return {
    promptTokens,
    completionTokens,
    totalTokens: Math.max(seen.totalTokens, next.totalTokens, promptTokens + completionTokens),
  };
}
