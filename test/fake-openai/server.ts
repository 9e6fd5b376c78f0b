// A small fake OpenAI upstream for the LiteLLM test server and the real LiteLLM proxy alike:
// /v1/chat/completions, /v1/completions, /v1/embeddings (also without the /v1 prefix, as
// OpenAI SDKs append paths to an api_base that may or may not end in /v1) and /v1/models.
// Answers are deterministic functions of the request — chat echoes the last user message,
// embeddings are derived from a hash of the input — and every answer reports `usage`
// (tokens = whitespace-separated words, so tests can compute them). `stream: true` answers
// with server-sent events, one chunk per word, then a finish chunk; with
// `stream_options.include_usage` a last chunk with empty `choices` carries `usage`, as
// OpenAI does; then `data: [DONE]`.
import { createHash, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';

export interface FakeOpenAIOptions {
  port?: number;
  host?: string;
  /**
   * Answers carry `x-litellm-response-cost: <this>`, as LiteLLM in front of an upstream
   * adds (for a gateway talking to this server as its LiteLLM, e.g. the bench's budgets).
   */
  responseCost?: string | undefined;
}

export interface FakeOpenAIRequest {
  path: string;
  body: unknown;
  authorization: string | undefined;
}

export interface FakeOpenAI {
  /** Base URL including `/v1`, as an OpenAI `api_base`. */
  url: string;
  port: number;
  /** Every inference request received, oldest first. */
  readonly requests: readonly FakeOpenAIRequest[];
  app: FastifyInstance;
  stop(): Promise<void>;
}

/** Counts tokens the way the fake does: words separated by whitespace. */
export function countTokens(text: string): number {
  const words = text.trim().split(/\s+/).filter(Boolean);
  return words.length;
}

/** The reply the fake gives to a chat whose last user message is `prompt`. */
export function echoReply(prompt: string): string {
  return `echo: ${prompt}`;
}

/** The deterministic embedding of `input` (8 dimensions in [-1, 1)). */
export function fakeEmbedding(input: string, dimensions = 8): number[] {
  const digest = createHash('sha256').update(input).digest();
  return Array.from({ length: dimensions }, (_, i) => (digest[i]! - 128) / 128);
}

interface ChatMessage {
  role?: string;
  content?: unknown;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'object' && part && 'text' in part ? String(part.text) : ''))
      .join(' ');
  }
  return '';
}

const created = 1_700_000_000;

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const requests: FakeOpenAIRequest[] = [];
  const responseCost = options.responseCost;
  if (responseCost !== undefined) {
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('x-litellm-response-cost', responseCost);
      done();
    });
  }

  app.addHook('preHandler', async (request) => {
    if (request.method === 'POST') {
      requests.push({
        path: request.url,
        body: request.body,
        authorization: request.headers.authorization,
      });
    }
  });

  const chat = async (request: { body: unknown }, reply: FastifyReply) => {
    const body = (request.body ?? {}) as {
      model?: string;
      messages?: ChatMessage[];
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const model = body.model ?? 'fake-model';
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const content = echoReply(textOf(lastUser?.content));
    const promptTokens = messages.reduce((n, m) => n + countTokens(textOf(m.content)), 0);
    const completionTokens = countTokens(content);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const id = `chatcmpl-${randomUUID()}`;
    if (!body.stream) {
      return {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage,
      };
    }
    const chunk = (delta: object, finish: string | null, extra: object = {}) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
      ...extra,
    });
    const events: object[] = [];
    const words = content.split(' ');
    words.forEach((word, i) => {
      const text = i === 0 ? word : ` ${word}`;
      events.push(chunk(i === 0 ? { role: 'assistant', content: text } : { content: text }, null));
    });
    events.push(chunk({}, 'stop'));
    if (body.stream_options?.include_usage) {
      events.push({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
    }
    return sendEvents(reply, events);
  };

  const completions = async (request: { body: unknown }) => {
    const body = (request.body ?? {}) as { model?: string; prompt?: unknown };
    const prompt = Array.isArray(body.prompt)
      ? body.prompt.map(String).join(' ')
      : String(body.prompt ?? '');
    const text = echoReply(prompt);
    const promptTokens = countTokens(prompt);
    const completionTokens = countTokens(text);
    return {
      id: `cmpl-${randomUUID()}`,
      object: 'text_completion',
      created,
      model: body.model ?? 'fake-model',
      choices: [{ index: 0, text, finish_reason: 'stop', logprobs: null }],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    };
  };

  const embeddings = async (request: { body: unknown }) => {
    const body = (request.body ?? {}) as { model?: string; input?: unknown; dimensions?: number };
    const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')];
    const promptTokens = inputs.reduce((n, s) => n + countTokens(s), 0);
    return {
      object: 'list',
      model: body.model ?? 'fake-embedding',
      data: inputs.map((input, index) => ({
        object: 'embedding',
        index,
        embedding: fakeEmbedding(input, body.dimensions),
      })),
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  };

  for (const prefix of ['/v1', '']) {
    app.post(`${prefix}/chat/completions`, chat);
    app.post(`${prefix}/completions`, completions);
    app.post(`${prefix}/embeddings`, embeddings);
    app.get(`${prefix}/models`, async () => ({
      object: 'list',
      data: [{ id: 'fake-model', object: 'model', created, owned_by: 'fake-openai' }],
    }));
  }

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    app,
    stop: () => app.close(),
  };
}

/** Writes `events` as server-sent events, then `data: [DONE]`. */
function sendEvents(reply: FastifyReply, events: readonly object[]): FastifyReply {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
  res.end('data: [DONE]\n\n');
  return reply;
}
