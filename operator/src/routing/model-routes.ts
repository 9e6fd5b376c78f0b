// The gateway's model routes (contracts/routing/schema.ts › ModelRoutes), from the shared
// ModelCatalog: every model LiteLLM serves, with the provider and mode its /model/info gives
// (model_info.litellm_provider and model_info.mode, as the catalog keeps them). The gateway
// answers GET /v1/models from them.
//
// Nothing is offered before the catalog has loaded: an empty list would tell the gateway that
// LiteLLM serves no model at all. A catalog that failed a later refresh keeps its last answer,
// and so do the routes.
import {
  ROUTING_SCHEMA_VERSION,
  type ModelRoute,
  type ModelRoutes,
} from '../../../contracts/routing/schema.ts';
import type { ModelCatalog } from '../litellm/model-catalog.ts';

/** Where the routing sync gets the model routes, and hears that they changed. */
export interface ModelRoutesSource {
  /** The routes now; undefined while there are none to publish yet. */
  current(): ModelRoutes | undefined;
  /** Calls `listener` after every change; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

type CatalogView = Pick<ModelCatalog, 'models' | 'get'>;

export function modelRoutes(catalog: CatalogView): ModelRoutes {
  const models: Record<string, ModelRoute> = {};
  for (const name of catalog.models()) {
    const facts = catalog.get(name) ?? {};
    models[name] = {
      ...(facts.provider !== undefined ? { provider: facts.provider } : {}),
      ...(facts.mode !== undefined ? { mode: facts.mode } : {}),
    };
  }
  return { schemaVersion: ROUTING_SCHEMA_VERSION, models };
}

/** The routes of a ModelCatalog, once it has loaded. */
export function catalogModelRoutes(
  catalog: CatalogView & Pick<ModelCatalog, 'loaded' | 'onChange'>,
): ModelRoutesSource {
  return {
    current: () => (catalog.loaded ? modelRoutes(catalog) : undefined),
    onChange: (listener) => catalog.onChange(listener),
  };
}
