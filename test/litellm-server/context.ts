// What every route module of the test server shares: the store, the configuration, and the
// models the "proxy" serves.
import type { Store } from './store.ts';

export interface ModelConfig {
  /** The public name clients ask for (LiteLLM's model_name). */
  model_name: string;
  /** chat (default) | completion | embedding. */
  mode?: 'chat' | 'completion' | 'embedding';
  /** The upstream model (litellm_params.model without the provider); default model_name. */
  upstream_model?: string;
  input_cost_per_token?: number;
  output_cost_per_token?: number;
  max_tokens?: number;
  max_input_tokens?: number;
  /** litellm_params.mock_response: answered by the proxy itself, no upstream call. */
  mock_response?: string;
}

/** A ModelConfig with its defaults filled in. */
export type ResolvedModel = ModelConfig &
  Required<
    Pick<ModelConfig, 'mode' | 'upstream_model' | 'input_cost_per_token' | 'output_cost_per_token'>
  >;

export function resolveModel(model: string | ModelConfig): ResolvedModel {
  const config = typeof model === 'string' ? { model_name: model } : model;
  const mode = config.mode ?? (/emb/i.test(config.model_name) ? 'embedding' : 'chat');
  return {
    ...config,
    mode,
    upstream_model: config.upstream_model ?? config.model_name,
    // Small, exact-in-binary-enough defaults so spend moves and tests can compute it.
    input_cost_per_token: config.input_cost_per_token ?? 0.000001,
    output_cost_per_token: config.output_cost_per_token ?? 0.000002,
  };
}

export interface ServerContext {
  store: Store;
  masterKey: string;
  models: readonly ResolvedModel[];
  /** Base URL of the OpenAI-compatible upstream, including /v1. */
  upstreamUrl: string;
  /** Behave as with LITELLM_LICENSE set: Enterprise features allowed. Default false. */
  licensed: boolean;
  /** general_settings.disable_auto_add_proxy_admin_to_teams. Default false, as LiteLLM. */
  disableAutoAddProxyAdminToTeams: boolean;
}

/** The user id LiteLLM gives the master key (constants.py › LITELLM_PROXY_ADMIN_NAME). */
export const PROXY_ADMIN_ID = 'default_user_id';
export const LITELLM_VERSION = '1.108.7';
