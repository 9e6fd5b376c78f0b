// Every route the gateway serves: method + path pattern → where the request names its model,
// and which group of routes it belongs to. Anything not listed is answered 404 by the gateway
// and never forwarded. The routes are LiteLLM 1.108.7's (litellm/proxy/proxy_server.py and its
// *_endpoints/ modules; LiteLLMRoutes.openai_routes in litellm/proxy/_types.py), the OpenAI
// ones under /v1 (the base URL keys are given) plus LiteLLM's model-in-path aliases
// (/openai/deployments/{model}/…, /engines/{model}/…) that Azure-style clients use.
//
// Patterns: literal segments, `{name}` for one segment, `{model+}` for the model name in the
// path (one or more segments: LiteLLM's {model:path}, so "openai/gpt-4o" works), `{rest+}` for
// any sub-path. The table is compiled once: exact paths into a map per method (the hot path,
// POST /v1/chat/completions, is two map hits), patterns into segment lists tried in order.
import type { GatewayRouteGroup } from '../../../crds/api/team.ts';

/**
 * "inference" routes name a model and are served to every key that reaches one; "models" is
 * answered by the gateway itself; a GatewayRouteGroup is served only to keys whose Team
 * enabled it.
 */
export type RouteGroup = 'inference' | 'models' | GatewayRouteGroup;

/**
 * Where the request names its model:
 * - json: the JSON body's `model` (required; the body must be application/json);
 * - form: the multipart form field `model` (required; the body must be multipart/form-data);
 * - path: the pattern's {model+} (required); a `model` in the body, when there, is checked too;
 * - optional: a JSON body's `model` is checked when there (an assistant run's override);
 * - batch: the lines of the batch's input file (batch-input-models.ts);
 * - upload: a multipart upload's `model` / `target_model_names` fields, when there;
 * - none: the route names no model.
 * Besides, on every route: a JSON body's `model`, `target_model_names` and `session.model`, a
 * `model` or `target_model_names` query parameter and an `x-litellm-model` header, the places
 * LiteLLM 1.108.7 takes a model from (auth_utils.py, _extract_model_candidates_from_request).
 */
export type ModelSource = 'json' | 'form' | 'path' | 'optional' | 'batch' | 'upload' | 'none';

/** How the body is read when the model is in the path: as JSON or as a multipart form. */
export type BodyKind = 'json' | 'form';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  group: RouteGroup;
  model: ModelSource;
  /** For model: 'path': the body's format. */
  body?: BodyKind;
  /**
   * OpenAI's chat and completions streams: they carry usage only when the request's
   * `stream_options.include_usage` asks, so the gateway asks (proxy/forward.ts) to count it.
   */
  usageInStream?: true;
  /** The answer is generated tokens (chat, completions, Responses, Anthropic messages): a
   * request reserves its possible output in tpm (limits/token-estimate.ts). */
  generatesOutput?: true;
}

const inference = (path: string, model: 'json' | 'form' = 'json'): RouteSpec => ({
  method: 'POST',
  path,
  group: 'inference',
  model,
  ...usageInStream(path),
  ...generatesOutput(path),
});
const inPath = (path: string, body: BodyKind = 'json'): RouteSpec => ({
  method: 'POST',
  path,
  group: 'inference',
  model: 'path',
  body,
  ...usageInStream(path),
  ...generatesOutput(path),
});
/** Every chat/completions and completions route, wherever its model is named. */
function usageInStream(path: string): { usageInStream?: true } {
  return path.endsWith('/chat/completions') || path.endsWith('/completions')
    ? { usageInStream: true }
    : {};
}
/** Every route whose answer is generated text, wherever its model is named. */
function generatesOutput(path: string): { generatesOutput?: true } {
  return usageInStream(path).usageInStream || path === '/v1/responses' || path === '/v1/messages'
    ? { generatesOutput: true }
    : {};
}
const grouped = (
  group: RouteGroup,
  method: RouteSpec['method'],
  path: string,
  model: ModelSource = 'none',
): RouteSpec => ({ method, path, group, model });

export const ROUTES: readonly RouteSpec[] = [
  // Model calls: the model is in the JSON body.
  inference('/v1/chat/completions'),
  inference('/v1/completions'),
  inference('/v1/embeddings'),
  inference('/v1/images/generations'),
  inference('/v1/audio/speech'),
  inference('/v1/moderations'),
  inference('/v1/rerank'),
  inference('/v2/rerank'),
  inference('/v1/responses'),
  inference('/v1/responses/compact'),
  inference('/v1/responses/input_tokens'),
  inference('/v1/messages'),
  inference('/v1/messages/count_tokens'),
  inference('/v1/ocr'),
  // Model calls with an upload: the model is a form field.
  inference('/v1/audio/transcriptions', 'form'),
  inference('/v1/images/edits', 'form'),
  // Model in the path (Azure-style deployments, engines). Longer suffixes first: in
  // /openai/deployments/m/chat/completions the model is "m", not "m/chat".
  inPath('/openai/deployments/{model+}/chat/completions'),
  inPath('/openai/deployments/{model+}/completions'),
  inPath('/openai/deployments/{model+}/embeddings'),
  inPath('/openai/deployments/{model+}/images/generations'),
  inPath('/openai/deployments/{model+}/images/edits', 'form'),
  inPath('/engines/{model+}/chat/completions'),
  inPath('/engines/{model+}/completions'),
  inPath('/engines/{model+}/embeddings'),
  // The key's own models, answered by the gateway.
  grouped('models', 'GET', '/v1/models'),
  grouped('models', 'GET', '/v1/models/{model}'),
  // Routes that reach models without naming one: only where the Team enabled them.
  grouped('batches', 'POST', '/v1/batches', 'batch'),
  grouped('batches', 'GET', '/v1/batches'),
  grouped('batches', 'GET', '/v1/batches/{id}'),
  grouped('batches', 'POST', '/v1/batches/{id}/cancel'),
  grouped('files', 'POST', '/v1/files', 'upload'),
  grouped('files', 'GET', '/v1/files'),
  grouped('files', 'GET', '/v1/files/{id}'),
  grouped('files', 'DELETE', '/v1/files/{id}'),
  grouped('files', 'GET', '/v1/files/{id}/content'),
  grouped('fineTuning', 'POST', '/v1/fine_tuning/jobs', 'json'),
  grouped('fineTuning', 'GET', '/v1/fine_tuning/jobs'),
  grouped('fineTuning', 'GET', '/v1/fine_tuning/jobs/{id}'),
  grouped('fineTuning', 'POST', '/v1/fine_tuning/jobs/{id}/cancel'),
  grouped('vectorStores', 'POST', '/v1/vector_stores'),
  grouped('vectorStores', 'GET', '/v1/vector_stores'),
  grouped('vectorStores', 'GET', '/v1/vector_stores/{id}'),
  grouped('vectorStores', 'POST', '/v1/vector_stores/{id}'),
  grouped('vectorStores', 'DELETE', '/v1/vector_stores/{id}'),
  grouped('vectorStores', 'POST', '/v1/vector_stores/{id}/search'),
  grouped('vectorStores', 'POST', '/v1/vector_stores/{id}/files'),
  grouped('vectorStores', 'GET', '/v1/vector_stores/{id}/files'),
  grouped('vectorStores', 'GET', '/v1/vector_stores/{id}/files/{file}'),
  grouped('vectorStores', 'POST', '/v1/vector_stores/{id}/files/{file}'),
  grouped('vectorStores', 'DELETE', '/v1/vector_stores/{id}/files/{file}'),
  grouped('vectorStores', 'GET', '/v1/vector_stores/{id}/files/{file}/content'),
  grouped('assistants', 'POST', '/v1/assistants', 'json'),
  grouped('assistants', 'GET', '/v1/assistants'),
  grouped('assistants', 'DELETE', '/v1/assistants/{id}'),
  grouped('assistants', 'POST', '/v1/threads'),
  grouped('assistants', 'GET', '/v1/threads/{id}'),
  grouped('assistants', 'POST', '/v1/threads/{id}/messages'),
  grouped('assistants', 'GET', '/v1/threads/{id}/messages'),
  grouped('assistants', 'POST', '/v1/threads/{id}/runs', 'optional'),
  grouped('realtime', 'POST', '/v1/realtime/client_secrets'),
  grouped('realtime', 'POST', '/v1/realtime/calls'),
  grouped('realtime', 'POST', '/v1/realtime/transcription_sessions'),
  grouped('storedResponses', 'GET', '/v1/responses/{id}'),
  grouped('storedResponses', 'DELETE', '/v1/responses/{id}'),
  grouped('storedResponses', 'GET', '/v1/responses/{id}/input_items'),
  grouped('storedResponses', 'POST', '/v1/responses/{id}/cancel'),
  // MCP's streamable HTTP endpoint (LiteLLM mounts its MCP server at /mcp).
  ...(['GET', 'POST', 'DELETE'] as const).flatMap((method) => [
    grouped('mcp', method, '/mcp'),
    grouped('mcp', method, '/mcp/{rest+}'),
  ]),
];

export interface RouteMatch {
  route: RouteSpec;
  /** The model named in the path (model: 'path'), decoded. */
  pathModel?: string;
}

interface CompiledPattern {
  route: RouteSpec;
  /** Literal segments, or null for a one-segment parameter. */
  head: (string | null)[];
  /** With a {…+} parameter: the literal segments after it. */
  tail?: string[];
  /** True when the {…+} parameter is the model. */
  restIsModel: boolean;
}

export class RouteTable {
  /** Exact paths' matches, made once: the hot path allocates nothing here. */
  private readonly exact = new Map<string, Map<string, RouteMatch>>();
  private readonly patterns = new Map<string, CompiledPattern[]>();

  constructor(routes: readonly RouteSpec[] = ROUTES) {
    for (const route of routes) {
      if (!route.path.includes('{')) {
        const byPath = this.exact.get(route.method) ?? new Map<string, RouteMatch>();
        if (byPath.has(route.path))
          throw new Error(`duplicate route ${route.method} ${route.path}`);
        byPath.set(route.path, Object.freeze({ route }));
        this.exact.set(route.method, byPath);
        continue;
      }
      const list = this.patterns.get(route.method) ?? [];
      list.push(compile(route));
      this.patterns.set(route.method, list);
    }
  }

  /** The route `method path` is, for a normalised path; undefined when the gateway serves none. */
  match(method: string, path: string): RouteMatch | undefined {
    const exact = this.exact.get(method)?.get(path);
    if (exact !== undefined) return exact;
    const patterns = this.patterns.get(method);
    if (patterns === undefined) return undefined;
    const segments = path.slice(1).split('/');
    for (const pattern of patterns) {
      const match = matchPattern(pattern, segments);
      if (match !== undefined) return match;
    }
    return undefined;
  }
}

function compile(route: RouteSpec): CompiledPattern {
  const segments = route.path.slice(1).split('/');
  const rest = segments.findIndex((s) => s.endsWith('+}'));
  const literalOrParam = (s: string) => (s.startsWith('{') ? null : s);
  if (rest === -1) {
    return { route, head: segments.map(literalOrParam), restIsModel: false };
  }
  const tail = segments.slice(rest + 1);
  if (tail.some((s) => s.startsWith('{'))) {
    throw new Error(`${route.path}: no parameter may follow a {…+} one`);
  }
  return {
    route,
    head: segments.slice(0, rest).map(literalOrParam),
    tail,
    restIsModel: segments[rest] === '{model+}',
  };
}

function matchPattern(pattern: CompiledPattern, segments: string[]): RouteMatch | undefined {
  const { head, tail } = pattern;
  if (
    tail === undefined
      ? segments.length !== head.length
      : segments.length <= head.length + tail.length
  ) {
    return undefined;
  }
  for (let i = 0; i < head.length; i++) {
    const literal = head[i];
    if (literal !== null && literal !== segments[i]) return undefined;
  }
  if (tail === undefined) return { route: pattern.route };
  const restEnd = segments.length - tail.length;
  for (let i = 0; i < tail.length; i++) {
    if (tail[i] !== segments[restEnd + i]) return undefined;
  }
  if (!pattern.restIsModel) return { route: pattern.route };
  // Segments are normalised (each one percent-encoded canonically): decode the model's.
  const model = segments.slice(head.length, restEnd).map(decodeURIComponent).join('/');
  return { route: pattern.route, pathModel: model };
}
