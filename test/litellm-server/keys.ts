// /key/* as LiteLLM 1.108.7 answers them (CONTRACT-VERIFIED.md §3, §4). Keys are stored by
// hash only; /key/delete archives, so /key/info keeps answering (status "deleted").
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { authenticate, requireAdmin } from './auth.ts';
import type { ServerContext } from './context.ts';
import {
  bool,
  bodyOf,
  dict,
  int,
  num,
  newestFirst,
  paginate,
  queryBool,
  queryInt,
  queryOf,
  str,
  strList,
} from './fields.ts';
import {
  HttpError,
  internalError,
  managementError,
  NOT_PREMIUM_USER,
  proxyError,
  validationError,
} from './http-errors.ts';
import {
  abbreviate,
  addDuration,
  hashToken,
  isHash,
  tokenOf,
  type Json,
  type KeyRecord,
} from './store.ts';
import { presetRoutes } from './routes.ts';
import { checkPremiumFields } from './teams.ts';

/** Management-endpoint metadata fields LiteLLM folds into `metadata` (_types › LiteLLM_ManagementEndpoint_MetadataFields). */
const METADATA_FIELDS = ['model_rpm_limit', 'model_tpm_limit', 'mcp_rpm_limit', 'tag_rpm_limit'];
const PREMIUM_KEY_FIELDS = [
  'tags',
  'guardrails',
  'policies',
  'prompts',
  'secret_manager_settings',
  'allowed_passthrough_routes',
  'disable_global_guardrails',
  'logging',
];

export interface KeyFields {
  key_alias?: string | null;
  user_id?: string | null;
  team_id?: string | null;
  models?: string[];
  max_budget?: number | null;
  soft_budget?: number | null;
  budget_duration?: string | null;
  tpm_limit?: number | null;
  rpm_limit?: number | null;
  max_parallel_requests?: number | null;
  duration?: string;
  metadata?: Json;
  blocked?: boolean | null;
  key_type?: string | null;
  allowed_routes?: string[];
}

/** Inserts a key row (after the caller's checks). */
export function createKey(ctx: ServerContext, plaintext: string, fields: KeyFields): KeyRecord {
  const { store } = ctx;
  const expires = fields.duration ? addDuration(store.now(), fields.duration).toISOString() : null;
  return store.newKey({
    token: hashToken(plaintext),
    key_name: abbreviate(plaintext),
    key_alias: fields.key_alias ?? null,
    user_id: fields.user_id ?? null,
    team_id: fields.team_id ?? null,
    models: fields.models ?? [],
    max_budget: fields.max_budget ?? null,
    soft_budget: fields.soft_budget ?? null,
    budget_duration: fields.budget_duration ?? null,
    budget_reset_at: store.budgetResetAt(fields.budget_duration ?? null),
    tpm_limit: fields.tpm_limit ?? null,
    rpm_limit: fields.rpm_limit ?? null,
    max_parallel_requests: fields.max_parallel_requests ?? null,
    expires,
    metadata: fields.metadata ?? {},
    blocked: fields.blocked ?? null,
    key_type: fields.key_type ?? 'default',
    // KME › handle_key_type: a key_type preset replaces whatever allowed_routes was sent.
    allowed_routes: presetRoutes(fields.key_type) ?? fields.allowed_routes ?? [],
  });
}

/** metadata + the metadata-backed fields folded in (KME › metadata_json_with_limits). */
function foldedMetadata(body: Json, base: Json): Json {
  const metadata = { ...base };
  for (const field of [...METADATA_FIELDS, ...PREMIUM_KEY_FIELDS]) {
    const v = body[field];
    if (v !== undefined && v !== null) metadata[field] = v;
  }
  return metadata;
}

function keyAliasTaken(ctx: ServerContext, alias: string, except?: string): boolean {
  for (const key of ctx.store.keys.values()) {
    if (key.key_alias === alias && key.token !== except) return true;
  }
  return false;
}

function aliasError(alias: string): HttpError {
  return proxyError(
    400,
    `Key with alias '${alias}' already exists. Unique key aliases across all keys are required.`,
    'bad_request_error',
    'key_alias',
  );
}

function validateCustomKey(key: string): void {
  if (!key.startsWith('sk-')) {
    throw proxyError(
      400,
      "Invalid key format. LiteLLM Virtual Key must start with 'sk-'.",
      'bad_request_error',
      'key',
    );
  }
  if (key.length < 16) {
    throw proxyError(
      400,
      'Custom key must be at least 16 characters long.',
      'bad_request_error',
      'key',
    );
  }
}

function checkKeyPremium(ctx: ServerContext, body: Json): void {
  checkPremiumFields(ctx, body, PREMIUM_KEY_FIELDS);
  const mmb = body.model_max_budget;
  if (!ctx.licensed && mmb && typeof mmb === 'object' && Object.keys(mmb).length > 0) {
    // KME › validate_model_max_budget raises ValueError → 500.
    throw internalError(
      'Invalid model_max_budget: You must have an enterprise license to set model_max_budget. Example of valid model_max_budget: https://docs.litellm.ai/docs/proxy/users',
    );
  }
}

function keyFieldsFrom(body: Json): KeyFields {
  return {
    key_alias: str(body, 'key_alias'),
    user_id: str(body, 'user_id'),
    team_id: str(body, 'team_id'),
    models: strList(body, 'models') ?? undefined,
    max_budget: num(body, 'max_budget'),
    soft_budget: num(body, 'soft_budget'),
    budget_duration: str(body, 'budget_duration'),
    tpm_limit: int(body, 'tpm_limit'),
    rpm_limit: int(body, 'rpm_limit'),
    max_parallel_requests: int(body, 'max_parallel_requests'),
    duration: str(body, 'duration') ?? undefined,
    metadata: foldedMetadata(body, dict(body, 'metadata') ?? {}),
    blocked: bool(body, 'blocked'),
    key_type: str(body, 'key_type'),
    allowed_routes: strList(body, 'allowed_routes') ?? undefined,
  };
}

export function keyRow(key: KeyRecord): Json {
  return { ...key };
}

export function registerKeyRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { store } = ctx;

  // KME › generate_key_fn
  app.post('/key/generate', async (request) => {
    requireAdmin(ctx, request);
    const body = bodyOf(request);
    const custom = str(body, 'key');
    if (custom != null) validateCustomKey(custom);
    checkKeyPremium(ctx, body);
    const fields = keyFieldsFrom(body);
    if (fields.duration) addDuration(store.now(), fields.duration); // ValueError → 500 before anything is stored
    // _enforce_unique_key_alias runs first, against every key (even the same value).
    if (fields.key_alias && keyAliasTaken(ctx, fields.key_alias))
      throw aliasError(fields.key_alias);
    const plaintext = custom ?? `sk-${randomBytes(16).toString('base64url')}`;
    const token = hashToken(plaintext);
    const existing = store.keys.get(token);
    // A duplicate key value: prisma upsert with update {} — 200, nothing changed, the
    // response echoes the REQUESTED fields with the existing token.
    const record = existing ?? createKey(ctx, plaintext, fields);
    const expires = existing
      ? fields.duration
        ? addDuration(store.now(), fields.duration).toISOString()
        : null
      : record.expires;
    return {
      ...(existing ? {} : keyRow(record)),
      key_alias: fields.key_alias ?? null,
      user_id: fields.user_id ?? null,
      team_id: fields.team_id ?? null,
      models: fields.models ?? [],
      max_budget: fields.max_budget ?? null,
      soft_budget: fields.soft_budget ?? null,
      budget_duration: fields.budget_duration ?? null,
      tpm_limit: fields.tpm_limit ?? null,
      rpm_limit: fields.rpm_limit ?? null,
      max_parallel_requests: fields.max_parallel_requests ?? null,
      metadata: fields.metadata ?? {},
      blocked: fields.blocked ?? null,
      key: plaintext,
      key_name: abbreviate(plaintext),
      expires,
      token,
      token_id: token,
      created_at: record.created_at,
      updated_at: record.updated_at,
    };
  });

  // KME › info_key_fn: by plaintext or hash; without `key`, the bearer key itself.
  app.get('/key/info', async (request) => {
    const caller = authenticate(ctx, request);
    const passed = queryOf(request).key;
    let token: string;
    let echo: string;
    if (passed) {
      token = tokenOf(passed);
      echo = passed;
    } else if (caller.key) {
      token = caller.key.token;
      echo = token;
    } else {
      throw proxyError(404, 'Key not found. Passed key=None', 'not_found_error', 'key');
    }
    const live = store.keys.get(token);
    const deleted = live ? undefined : store.deletedKeys.get(token);
    const row = live ?? deleted;
    if (!row) throw proxyError(404, `Key not found. Passed key=${echo}`, 'not_found_error', 'key');
    if (
      caller.key &&
      caller.key.token !== token &&
      !(caller.user_id && row.user_id === caller.user_id)
    ) {
      throw proxyError(
        403,
        'You are not allowed to access this key. Only the key owner, a team admin or a proxy admin can.',
        'auth_error',
        'None',
      );
    }
    const { token: _token, ...info } = row;
    return { key: echo, info: { ...info, status: live ? store.keyStatus(live) : 'deleted' } };
  });

  // KME › update_key_fn: merge-patch; explicit null clears; metadata replaced wholesale.
  app.post('/key/update', async (request) => {
    requireAdmin(ctx, request);
    const body = bodyOf(request);
    const passed = str(body, 'key');
    const alias = str(body, 'key_alias');
    let key: KeyRecord | undefined;
    if (passed) {
      key = store.findKey(passed);
    } else if (alias) {
      const matches = store.keysOf((k) => k.key_alias === alias);
      if (matches.length > 1)
        throw managementError(400, {
          error: `Multiple keys found with alias ${alias}. Pass key instead.`,
        });
      key = matches[0];
    } else {
      throw validationError([
        {
          type: 'value_error',
          loc: ['body'],
          msg: "Value error, Either 'key' or 'key_alias' must be provided",
          input: body,
        },
      ]);
    }
    if (!key) throw proxyError(404, `Key not found: ${passed ?? alias}`, 'not_found_error', 'key');
    checkKeyPremium(ctx, body);
    if (passed && alias && alias !== key.key_alias && keyAliasTaken(ctx, alias, key.token))
      throw aliasError(alias);
    const nullable = [
      'key_alias',
      'max_budget',
      'soft_budget',
      'budget_duration',
      'tpm_limit',
      'rpm_limit',
      'max_parallel_requests',
      'team_id',
      'user_id',
      'blocked',
    ] as const;
    for (const field of nullable) {
      if (!(field in body)) continue;
      if (field === 'key_alias' && !passed) continue; // the alias named the key
      const value = body[field];
      if (value === null) {
        (key as unknown as Json)[field] = null;
        if (field === 'budget_duration') key.budget_reset_at = null;
        continue;
      }
      const fields = keyFieldsFrom({ [field]: value });
      (key as unknown as Json)[field] = fields[field as keyof KeyFields];
      if (field === 'budget_duration')
        key.budget_reset_at = store.budgetResetAt(key.budget_duration);
    }
    const models = strList(body, 'models');
    if (models) key.models = models;
    // UpdateKeyRequest has no key_type; allowed_routes is stored as sent (null: left alone).
    const routes = strList(body, 'allowed_routes');
    if (routes) key.allowed_routes = routes;
    if ('duration' in body) {
      const duration = str(body, 'duration');
      key.expires =
        duration == null || duration === '-1'
          ? null
          : addDuration(store.now(), duration).toISOString();
    }
    const metadata = dict(body, 'metadata');
    key.metadata = foldedMetadata(body, metadata ?? key.metadata);
    key.updated_at = store.timestamp();
    return { ...keyRow(key), key: passed ?? key.token };
  });

  // KME › delete_key_fn: archive; none found → 404; deleted_keys echoes the request.
  app.post('/key/delete', async (request) => {
    requireAdmin(ctx, request);
    const body = bodyOf(request);
    const keys = strList(body, 'keys');
    const aliases = strList(body, 'key_aliases');
    if (!keys && !aliases) {
      throw validationError([
        {
          type: 'value_error',
          loc: ['body'],
          msg: "Value error, Either 'keys' or 'key_aliases' must be provided",
          input: body,
        },
      ]);
    }
    const tokens = new Set<string>();
    for (const k of keys ?? []) {
      const found = store.findKey(k);
      if (found) tokens.add(found.token);
    }
    for (const a of aliases ?? [])
      for (const k of store.keysOf((x) => x.key_alias === a)) tokens.add(k.token);
    if (tokens.size === 0) throw managementError(404, { error: 'No keys found' });
    store.archiveKeys(tokens);
    return { deleted_keys: keys ?? aliases };
  });

  // KME › block_key / unblock_key
  for (const [path, blocked] of [
    ['/key/block', true],
    ['/key/unblock', false],
  ] as const) {
    app.post(path, async (request) => {
      requireAdmin(ctx, request);
      const body = bodyOf(request);
      const passed = str(body, 'key');
      if (!passed)
        throw validationError([
          { type: 'missing', loc: ['body', 'key'], msg: 'Field required', input: body },
        ]);
      if (!passed.startsWith('sk-') && !isHash(passed)) {
        throw proxyError(
          400,
          'Invalid key format. Pass the key (sk-...) or its hashed token.',
          'bad_request_error',
          'key',
        );
      }
      const key = store.findKey(passed);
      if (!key) throw proxyError(404, `Key not found: ${passed}`, 'not_found_error', 'key');
      key.blocked = blocked;
      key.updated_at = store.timestamp();
      return keyRow(key);
    });
  }

  // KME › list_keys: {keys (hashes unless return_full_object), total_count, current_page, total_pages}
  app.get('/key/list', async (request) => {
    requireAdmin(ctx, request);
    const query = queryOf(request);
    const page = queryInt(query, 'page', 1, 1);
    const size = queryInt(query, 'size', 10, 1, 100);
    const status = query.status;
    if (status && !['active', 'expired', 'revoked', 'deleted'].includes(status)) {
      throw proxyError(
        400,
        `Invalid status: ${status}. Must be one of active, expired, revoked, deleted.`,
        'bad_request_error',
        'status',
      );
    }
    let keys: KeyRecord[] =
      status === 'deleted' ? [...store.deletedKeys.values()] : [...store.keys.values()];
    if (status && status !== 'deleted') keys = keys.filter((k) => store.keyStatus(k) === status);
    if (query.user_id) keys = keys.filter((k) => k.user_id === query.user_id);
    if (query.team_id) keys = keys.filter((k) => k.team_id === query.team_id);
    if (query.key_alias) keys = keys.filter((k) => k.key_alias === query.key_alias);
    if (query.key_hash) keys = keys.filter((k) => k.token === query.key_hash);
    keys.sort(newestFirst);
    const { items, total, totalPages } = paginate(keys, page, size);
    const full = queryBool(query, 'return_full_object') || query.expand === 'user';
    return {
      keys: full ? items.map(keyRow) : items.map((k) => k.token),
      total_count: total,
      current_page: page,
      total_pages: totalPages,
    };
  });

  // KME › regenerate_key_fn: Enterprise-only (500 without a licence).
  const regenerate = async (ctxKey: string | undefined, body: Json) => {
    if (!ctx.licensed) {
      throw internalError(
        `Regenerating Virtual Keys is an Enterprise feature, ${NOT_PREMIUM_USER}`,
      );
    }
    const passed = str(body, 'key') ?? ctxKey;
    const old = passed ? store.findKey(passed) : undefined;
    if (!old) throw proxyError(404, `Key not found: ${passed}`, 'not_found_error', 'key');
    const newKey = str(body, 'new_key') ?? `sk-${randomBytes(16).toString('base64url')}`;
    validateCustomKey(newKey);
    const fresh = {
      ...old,
      token: hashToken(newKey),
      key_name: abbreviate(newKey),
      updated_at: store.timestamp(),
    };
    const duration = str(body, 'duration');
    if (duration) fresh.expires = addDuration(store.now(), duration).toISOString();
    store.keys.delete(old.token);
    store.keys.set(fresh.token, fresh);
    return { ...keyRow(fresh), key: newKey, token_id: fresh.token };
  };
  app.post('/key/regenerate', async (request) => {
    requireAdmin(ctx, request);
    return regenerate(undefined, bodyOf(request));
  });
  app.post<{ Params: { key: string } }>('/key/:key/regenerate', async (request) => {
    requireAdmin(ctx, request);
    return regenerate(request.params.key, bodyOf(request));
  });
}
