// What a request reserves in its tpm scopes at admission, and what it is charged at settle.
//
// The reservation follows LiteLLM's own pre-call tpm check (parallel_request_limiter_v3): the
// prompt at 4 characters a token, plus the output the request may generate — its
// `max_tokens` / `max_completion_tokens` / `max_output_tokens` (the largest given), or else a
// default (TPM_RESERVE_DEFAULT_OUTPUT_TOKENS) capped at a quarter of the smallest tpm among the
// request's scopes, so a small tpm is not filled by the default alone. Routes that generate no
// tokens (embeddings, moderations, images, audio) reserve only the prompt.
//
// The prompt is every string value of the parsed JSON body (messages, prompt, input,
// instructions, tools…), read from the object the gateway already parsed for the model check:
// no second parse. Inline data (`data:` URLs: images, audio) is not text and is left out. A
// request without a JSON body reserves nothing (its real usage is still charged at settle).
import type { LimitScope } from './rate-limiter.ts';

/** LiteLLM's estimate: characters per token. */
export const CHARS_PER_TOKEN = 4;
/** TPM_RESERVE_DEFAULT_OUTPUT_TOKENS unless set (LiteLLM's no-max_tokens floor). */
export const DEFAULT_OUTPUT_TOKENS = 1024;

const OUTPUT_CAP_FIELDS = ['max_tokens', 'max_completion_tokens', 'max_output_tokens'] as const;

/** Deepest nesting walked for prompt text: deeper values are not counted. */
const MAX_DEPTH = 32;

/**
 * The tokens to reserve for a request with the parsed JSON `body` (undefined: none) in
 * `scopes`, to a route whose answer is generated tokens (`generates`: the route table's
 * `generatesOutput`) or not: 0 when no scope has a tpm (nothing to reserve, nothing walked).
 */
export function tokenReservation(
  generates: boolean,
  body: unknown,
  scopes: readonly LimitScope[],
  defaultOutputTokens: number,
): number {
  let smallestTpm = Infinity;
  for (const s of scopes) if (s.tpm !== undefined && s.tpm < smallestTpm) smallestTpm = s.tpm;
  if (smallestTpm === Infinity || typeof body !== 'object' || body === null) return 0;
  const prompt = Math.ceil(textLength(body, 0) / CHARS_PER_TOKEN);
  if (!generates) return prompt;
  const cap = outputCap(body as Record<string, unknown>);
  const output =
    cap ?? Math.min(defaultOutputTokens, Math.max(1, Math.floor(smallestTpm / CHARS_PER_TOKEN)));
  return prompt + output;
}

/**
 * What a request that ended is charged: its usage when the answer reported one; nothing when
 * it ended with an error answer the caller received in full (no model output); otherwise —
 * the caller went away, or the answer had no readable usage — its reservation. There is no
 * refund without usage: disconnecting early cannot dodge tpm.
 */
export function tokensToSettle(ended: {
  usedTokens: number | undefined;
  reserved: number;
  /** The whole answer was written to the caller. */
  answered: boolean;
  statusCode: number;
}): number {
  if (ended.usedTokens !== undefined) return ended.usedTokens;
  if (ended.answered && ended.statusCode >= 400) return 0;
  return ended.reserved;
}

/** The largest output cap the body sets, or undefined. */
function outputCap(body: Record<string, unknown>): number | undefined {
  let cap: number | undefined;
  for (const field of OUTPUT_CAP_FIELDS) {
    const v = body[field];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && (cap === undefined || v > cap)) {
      cap = Math.ceil(v);
    }
  }
  return cap;
}

/** Characters of text in `value`: every string, but inline data URLs. */
function textLength(value: unknown, depth: number): number {
  if (typeof value === 'string') return value.startsWith('data:') ? 0 : value.length;
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (const item of value) n += textLength(item, depth + 1);
  } else {
    for (const key in value) n += textLength((value as Record<string, unknown>)[key], depth + 1);
  }
  return n;
}
