// The refusals of the route allowlist, in OpenAI's error shape (see ../errors/openai-error.ts).
import { OpenAIError } from '../errors/openai-error.ts';
import type { RouteGroup } from './route-table.ts';

export const invalidPath = (problem: string) =>
  new OpenAIError({
    status: 400,
    type: 'invalid_request_error',
    reason: 'invalid_path',
    message: `The request path is refused: ${problem}.`,
  });

export const unknownRoute = (method: string, path: string) =>
  new OpenAIError({
    status: 404,
    type: 'invalid_request_error',
    reason: 'unknown_route',
    message: `Unknown route ${method} ${path}. The gateway serves the OpenAI API under /v1; see its route table.`,
  });

const GROUP_NAMES: Record<RouteGroup, string> = {
  inference: 'model',
  models: 'models',
  batches: 'batches',
  files: 'files',
  fineTuning: 'fine-tuning',
  vectorStores: 'vector stores',
  assistants: 'assistants and threads',
  realtime: 'realtime',
  mcp: 'MCP',
  storedResponses: 'stored responses',
};

/** A route of a group the key's Team did not enable. */
export const routeNotEnabled = (group: RouteGroup) =>
  new OpenAIError({
    status: 403,
    type: 'permission_error',
    reason: 'route_not_enabled',
    message: `The ${GROUP_NAMES[group]} API is not enabled for this API key: it reaches models without naming one. A Team admin can enable it (Team spec.gateway.enabledRoutes: [${group}]).`,
  });

/** A key whose subscriptions reach no model: it may list its (no) models, nothing else. */
export const keyReachesNoModel = () =>
  new OpenAIError({
    status: 403,
    type: 'key_model_access_denied',
    reason: 'no_models',
    message:
      'This API key reaches no model (its team has no active subscription to any model it names): only GET /v1/models is served.',
  });

export const unsupportedBody = (route: string, wanted: string) =>
  new OpenAIError({
    status: 415,
    type: 'invalid_request_error',
    reason: 'unsupported_content_type',
    message: `${route} takes a ${wanted} body (content-type: ${wanted}).`,
  });
