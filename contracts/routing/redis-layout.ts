// Where the routing config lives in Redis. One prefix (default "llmtenancy:") lets several
// installations share a Redis; "routing:v1" is the format version of schema.ts.
//
//   <prefix>routing:v1:keys     HASH    key hash → KeyPolicy JSON
//   <prefix>routing:v1:models   STRING  ModelRoutes JSON
//   <prefix>routing:v1:meta     HASH    RoutingMeta (schemaVersion, revision, epoch, updatedAt)
//   <prefix>routing:v1:changes  channel RoutingChange JSON, published after every change
//
// Every change is one atomic step (a Lua script: records + meta + PUBLISH, see
// operator/src/routing/routing-scripts.ts): readers never see a record without the revision
// that announced it.
export const DEFAULT_ROUTING_PREFIX = 'llmtenancy:';

export interface RoutingKeys {
  keys: string;
  models: string;
  meta: string;
  channel: string;
}

export function routingKeys(prefix: string = DEFAULT_ROUTING_PREFIX): RoutingKeys {
  const base = `${prefix}routing:v1:`;
  return {
    keys: `${base}keys`,
    models: `${base}models`,
    meta: `${base}meta`,
    channel: `${base}changes`,
  };
}
