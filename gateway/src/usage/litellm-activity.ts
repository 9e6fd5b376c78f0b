// The gateway's one reader of LiteLLM's admin API: the daily spend analytics
// (contracts/litellm/daily-activity.ts), called with the master key the people side already
// reads (LITELLM_MASTER_KEY_FILE, rotated without a restart). Only after the person was
// authorized through Kubernetes (usage-subject.ts): LiteLLM sees the master key, never the
// person. Every page is fetched (a day may straddle two), up to MAX_PAGES; the request is
// validated before it is sent and the answer before it is believed. A failure of LiteLLM is
// the person's 502 or 503, in OpenAI's shape, with LiteLLM's status but never its body.
import type { z } from 'zod';
import {
  activityEndpoints,
  MAX_ACTIVITY_PAGE_SIZE,
  type DailySpendData,
} from '../../../contracts/litellm/daily-activity.ts';
import { OpenAIError } from '../errors/openai-error.ts';

export type ActivityEndpointName = keyof typeof activityEndpoints;

/** One analytics read: the endpoint and its filters (the range and the pages are added). */
export type ActivityRead = {
  [N in ActivityEndpointName]: {
    endpoint: N;
    query: Omit<
      z.input<(typeof activityEndpoints)[N]['request']>,
      'start_date' | 'end_date' | 'page' | 'page_size'
    >;
  };
}[ActivityEndpointName];

/** 1000 rows a page: 100 pages is 100 000 (day, key, model) rows, far beyond a year of a team. */
const MAX_PAGES = 100;
const CALL_TIMEOUT_MS = 15_000;

export interface LiteLLMActivityOptions {
  /** LiteLLM's base URL (LITELLM_URL). */
  baseUrl: string;
  /** The master key now; undefined when its file is unreadable. */
  masterKey: () => Promise<string | undefined>;
  timeoutMs?: number;
  /** Rows per page. Default (and most LiteLLM takes) 1000; tests make days straddle pages. */
  pageSize?: number;
}

export class LiteLLMActivity {
  readonly #options: LiteLLMActivityOptions;

  constructor(options: LiteLLMActivityOptions) {
    this.#options = options;
  }

  /** Every day LiteLLM has for `read` in the range (UTC days, inclusive), page after page. */
  async days(
    read: ActivityRead,
    range: { since: string; until: string },
  ): Promise<DailySpendData[]> {
    const endpoint = activityEndpoints[read.endpoint];
    const pages: DailySpendData[] = [];
    for (let page = 1; ; page++) {
      const request = endpoint.request.parse({
        ...read.query,
        start_date: range.since,
        end_date: range.until,
        page,
        page_size: this.#options.pageSize ?? MAX_ACTIVITY_PAGE_SIZE,
      });
      const answer = await this.#get(endpoint.path, request as Record<string, unknown>);
      const parsed = endpoint.response.safeParse(answer);
      if (!parsed.success) {
        throw litellmFailed(`LiteLLM answered ${endpoint.path} in an unexpected shape`);
      }
      pages.push(...parsed.data.results);
      if (page >= parsed.data.metadata.total_pages) return pages;
      if (page >= MAX_PAGES) {
        throw litellmFailed(
          `LiteLLM has more than ${MAX_PAGES} pages of ${endpoint.path} for this range: ask for a shorter one`,
        );
      }
    }
  }

  async #get(path: string, query: Record<string, unknown>): Promise<unknown> {
    const key = await this.#options.masterKey();
    if (key === undefined) {
      throw new OpenAIError({
        status: 503,
        type: 'service_unavailable_error',
        reason: 'no_master_key',
        message:
          "Usage is read from LiteLLM with its master key, and the gateway cannot read it (LITELLM_MASTER_KEY_FILE). An admin must mount the operator's master-key Secret.",
      });
    }
    const url = new URL(`${this.#options.baseUrl}${path}`);
    for (const [field, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(field, String(value));
    }
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { authorization: `Bearer ${key}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? CALL_TIMEOUT_MS),
      });
    } catch (err) {
      throw new OpenAIError({
        status: 503,
        type: 'service_unavailable_error',
        reason: 'litellm_unreachable',
        headers: { 'retry-after': '5' },
        message: `LiteLLM did not answer ${path}: ${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message}.`,
      });
    }
    if (!response.ok) {
      await response.body?.cancel();
      // LiteLLM's error text may echo the query; the status is enough for an admin to look.
      throw litellmFailed(`LiteLLM answered ${path} with HTTP ${response.status}`);
    }
    return response.json().catch(() => {
      throw litellmFailed(`LiteLLM answered ${path} with a body that is not JSON`);
    });
  }
}

const litellmFailed = (message: string) =>
  new OpenAIError({ status: 502, type: 'upstream_error', reason: 'litellm_failed', message });
