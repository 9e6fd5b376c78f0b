// The models a batch would run, checked before the batch is created: a batch names no model
// itself, its input file does, once per line (`{"custom_id", "method", "url", "body":
// {"model", …}}`). The file is read back from LiteLLM with the caller's own (checked) key —
// so only a file that key may read is read — as a stream, one line at a time, and every
// line must be a POST to the batch's endpoint naming a model the key reaches. A file is
// immutable once uploaded, so what is checked here is what the batch will run.
import { StringDecoder } from 'node:string_decoder';
import { errors } from 'undici';
import {
  invalidBody,
  modelNotAllowed,
  OpenAIError,
  upstreamTimeout,
  upstreamUnavailable,
} from '../errors/openai-error.ts';
import type { Upstream } from '../proxy/upstream.ts';

/** The endpoints a batch may run (OpenAI's list), all model routes of the route table. */
export const BATCH_ENDPOINTS: ReadonlySet<string> = new Set([
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
  '/v1/moderations',
]);

/** OpenAI's limit on a batch input file. */
export const BATCH_INPUT_LIMIT_BYTES = 200 * 1024 * 1024;

const unreadableInput = (why: string) =>
  new OpenAIError({
    status: 400,
    type: 'invalid_request_error',
    reason: 'invalid_batch_input',
    param: 'input_file_id',
    message: `The batch's input file cannot be checked: ${why}.`,
  });

export interface BatchRequest {
  inputFileId: string;
  endpoint: string;
}

/** The batch's input file and endpoint from its JSON body, or a 400. */
export function batchRequestOf(body: unknown): BatchRequest {
  const { input_file_id: inputFileId, endpoint } = (body ?? {}) as Record<string, unknown>;
  if (typeof inputFileId !== 'string' || inputFileId === '') {
    throw invalidBody('A batch must name its input file ("input_file_id": "file-…").');
  }
  if (typeof endpoint !== 'string' || !BATCH_ENDPOINTS.has(endpoint)) {
    throw new OpenAIError({
      status: 400,
      type: 'invalid_request_error',
      reason: 'invalid_body',
      param: 'endpoint',
      message: `A batch's endpoint must be one of ${[...BATCH_ENDPOINTS].join(', ')}.`,
    });
  }
  return { inputFileId, endpoint };
}

/**
 * Reads the input file of `batch` from LiteLLM with `key` and checks every line; resolves
 * when all of them are POSTs to the batch's endpoint naming one of `models`, else rejects
 * with an OpenAIError (403 for a model the key does not reach, 400 for anything else).
 */
export async function checkBatchInput(
  batch: BatchRequest,
  key: string,
  models: readonly string[],
  upstream: Upstream,
  lineLimitBytes: number,
): Promise<void> {
  let response;
  try {
    response = await upstream.pool.request({
      method: 'GET',
      path: `${upstream.basePath}/v1/files/${encodeURIComponent(batch.inputFileId)}/content`,
      headers: { authorization: `Bearer ${key}` },
      headersTimeout: upstream.headersTimeoutMs,
      bodyTimeout: upstream.idleTimeoutMs,
    });
  } catch (err) {
    if (err instanceof errors.HeadersTimeoutError) throw upstreamTimeout();
    throw upstreamUnavailable(err instanceof Error ? err.message : String(err));
  }
  const body = response.body;
  if (response.statusCode < 200 || response.statusCode >= 300) {
    await body.dump();
    throw unreadableInput(`LiteLLM answered ${response.statusCode} when it was read`);
  }
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  let bytes = 0;
  const check = (text: string) => {
    line++;
    if (text.trim() === '') return;
    let request: { method?: unknown; url?: unknown; body?: { model?: unknown } };
    try {
      request = JSON.parse(text) as typeof request;
    } catch {
      throw unreadableInput(`line ${line} is not JSON`);
    }
    if (request.method !== 'POST' || request.url !== batch.endpoint) {
      throw unreadableInput(`line ${line} is not a POST to the batch's endpoint ${batch.endpoint}`);
    }
    const model = request.body?.model;
    if (typeof model !== 'string' || model === '') {
      throw unreadableInput(`line ${line} names no model`);
    }
    if (!models.includes(model)) throw modelNotAllowed(model);
  };
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > BATCH_INPUT_LIMIT_BYTES) throw unreadableInput('it is larger than 200 MiB');
      pending += decoder.write(chunk);
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        check(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
      if (pending.length > lineLimitBytes) {
        throw unreadableInput(`line ${line + 1} is longer than the gateway's body limit`);
      }
    }
    check(pending + decoder.end());
  } catch (err) {
    body.destroy();
    if (err instanceof OpenAIError) throw err;
    throw upstreamUnavailable(err instanceof Error ? err.message : String(err));
  }
}
