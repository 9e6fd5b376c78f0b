// The models LiteLLM serves, with the facts a ModelSubscription reports about each: one
// GET /model/info per refresh, shared by every reader, so checking a subscription never
// costs a LiteLLM call. Something else drives refresh() every refreshIntervalMs (the
// model-catalog controller, on the leader only).
//
//   state   loading      no answer yet: readers wait (onChange fires with the first answer)
//           unavailable  LiteLLM has never answered: readers must not guess (lastError says why)
//           loaded       the last good answer; a later failed refresh keeps it (stale beats
//                        empty: one failed poll must not revoke every subscription)
//
// onChange listeners run when the state changes or the models or their facts change, and
// never for a refresh that found the same catalog.
//
// Several deployments may serve one model_name (load balancing): its facts are those of the
// first deployment, in LiteLLM's order, that has any; a model none describes has empty facts.
import type { CallOptions, LiteLLMClient } from './client.ts';
import { perTokenCost } from './per-token-cost.ts';
import type { ModelInfoResponse } from './schemas.ts';
import { silentLogger, type Logger } from '../runtime/logger.ts';

/** What LiteLLM says about a model, in the shape of ModelSubscription.status.modelInfo. */
export interface ModelFacts {
  /** litellm_provider: openai, hosted_vllm, … */
  provider?: string;
  /** chat, completion, embedding, … */
  mode?: string;
  maxInputTokens?: number;
  /** max_output_tokens; else max_tokens (LiteLLM's legacy name for it). */
  maxOutputTokens?: number;
  /** US dollars per token, as a decimal string ("0.0000001"). */
  inputCostPerToken?: string;
  outputCostPerToken?: string;
}

export type ModelCatalogState = 'loading' | 'unavailable' | 'loaded';

export interface ModelCatalogOptions {
  litellm: Pick<LiteLLMClient, 'modelInfo'>;
  /** How often the catalog should be refreshed (read by whoever drives refresh()). */
  refreshIntervalMs: number;
  logger?: Logger;
  now?: () => Date;
}

// The CRD's bounds (crds/api/model-subscription.ts › ModelInfo); longer text is left out.
const MAX_PROVIDER_LENGTH = 128;
const MAX_MODE_LENGTH = 64;

export class ModelCatalog {
  readonly refreshIntervalMs: number;
  readonly #litellm: Pick<LiteLLMClient, 'modelInfo'>;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #listeners = new Set<() => void>();
  #state: ModelCatalogState = 'loading';
  #models = new Map<string, ModelFacts>();
  #fingerprint = '';
  #lastError: unknown;
  #refreshedAt: Date | undefined;
  #inFlight: Promise<boolean> | undefined;

  constructor(options: ModelCatalogOptions) {
    this.refreshIntervalMs = options.refreshIntervalMs;
    this.#litellm = options.litellm;
    this.#log = options.logger ?? silentLogger;
    this.#now = options.now ?? (() => new Date());
  }

  get state(): ModelCatalogState {
    return this.#state;
  }

  get loaded(): boolean {
    return this.#state === 'loaded';
  }

  /** The failure of the latest refresh; undefined once one succeeds. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** When the catalog last loaded. */
  get refreshedAt(): Date | undefined {
    return this.#refreshedAt;
  }

  /** The facts of a model LiteLLM serves (maybe none: {}); undefined when it does not serve it. */
  get(model: string): ModelFacts | undefined {
    const facts = this.#models.get(model);
    return facts && { ...facts };
  }

  /** Every model name LiteLLM serves, sorted. */
  models(): string[] {
    return [...this.#models.keys()].sort();
  }

  /** Calls `listener` after every change (see the top of this file); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Loads GET /model/info. Resolves to whether the catalog changed; rejects with LiteLLM's
   * error (kept as lastError). Calls made while one is running share it.
   */
  refresh(options: Pick<CallOptions, 'signal'> = {}): Promise<boolean> {
    this.#inFlight ??= this.#load(options.signal).finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #load(signal: AbortSignal | undefined): Promise<boolean> {
    let response: ModelInfoResponse;
    try {
      response = await this.#litellm.modelInfo({ signal });
    } catch (err) {
      this.#lastError = err;
      if (this.#state === 'loading') {
        this.#state = 'unavailable';
        this.#notify();
      } else if (this.#state === 'loaded') {
        this.#log.warn({ err }, 'model catalog: refresh failed; keeping the last one');
      }
      throw err;
    }
    const models = modelFactsFrom(response);
    const fingerprint = JSON.stringify([...models].sort(([a], [b]) => (a < b ? -1 : 1)));
    const changed = this.#state !== 'loaded' || fingerprint !== this.#fingerprint;
    this.#models = models;
    this.#fingerprint = fingerprint;
    this.#state = 'loaded';
    this.#lastError = undefined;
    this.#refreshedAt = this.#now();
    if (changed) {
      this.#log.info({ models: this.models() }, 'model catalog changed');
      this.#notify();
    }
    return changed;
  }

  #notify(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (err) {
        this.#log.error({ err }, 'model catalog: a change listener failed');
      }
    }
  }
}

/** Each model_name's facts (see the top of this file for several deployments). */
export function modelFactsFrom(response: ModelInfoResponse): Map<string, ModelFacts> {
  const models = new Map<string, ModelFacts>();
  for (const deployment of response.data) {
    const facts = factsOf(deployment.model_info);
    const known = models.get(deployment.model_name);
    if (!known || (Object.keys(known).length === 0 && Object.keys(facts).length > 0))
      models.set(deployment.model_name, facts);
  }
  return models;
}

type DeploymentInfo = ModelInfoResponse['data'][number]['model_info'];

function factsOf(info: DeploymentInfo): ModelFacts {
  if (!info) return {};
  const facts: ModelFacts = {
    provider: text(info.litellm_provider, MAX_PROVIDER_LENGTH),
    mode: text(info.mode, MAX_MODE_LENGTH),
    maxInputTokens: tokens(info.max_input_tokens),
    maxOutputTokens: tokens(info.max_output_tokens) ?? tokens(info.max_tokens),
    inputCostPerToken: perTokenCost(info.input_cost_per_token),
    outputCostPerToken: perTokenCost(info.output_cost_per_token),
  };
  return Object.fromEntries(
    Object.entries(facts).filter(([, value]) => value !== undefined),
  ) as ModelFacts;
}

function text(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= max ? value : undefined;
}

/** A token count status can hold: a whole number ≥ 0 (LiteLLM may send 128000.0). */
function tokens(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
