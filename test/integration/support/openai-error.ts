// The gateway's refusals, as a client reads them: an OpenAI-shaped `{"error": {message, type,
// param, code}}`, nothing more, with `code` the HTTP status.
import { expect } from 'vitest';

export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string;
}

/** Asserts that `text` is an OpenAI-shaped error for `status`, and returns its `error`. */
export function openAIErrorIn(text: string, status: number): OpenAIErrorBody {
  const body = JSON.parse(text) as { error: OpenAIErrorBody };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.code).toBe(String(status));
  return body.error;
}

/** The OpenAI-shaped error a fetch Response carries (asserted). */
export async function errorOf(response: Response): Promise<OpenAIErrorBody> {
  return openAIErrorIn(await response.text(), response.status);
}
