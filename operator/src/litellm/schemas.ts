// zod schemas of the LiteLLM admin API as the operator uses it: the record of the verified
// contract (CONTRACT-VERIFIED.md; LiteLLM 1.108.7). Each endpoint names its section there and
// the LiteLLM source it was read from (abbreviations as in that file: IUE, TE, KME, PS, _types).
//
// Requests: only the fields the operator sends, typed so that the API's traps are visible —
// e.g. `null` is allowed only on the fields LiteLLM really clears with null, there is no
// `expires` on keys (only `duration`) and no `max_parallel_requests` on teams.
// Responses: loose objects (unknown fields pass through, as LiteLLM adds fields every release);
// the fields the operator reads are validated, nullable where LiteLLM may send null.
import { z } from 'zod';

// ---------------------------------------------------------------------------------------
// Shared pieces

/** LiteLLM's `LitellmUserRoles` accepted by /user/new (`team`, `customer` → 422). IUE › new_user. */
export const UserRole = z.enum([
  'proxy_admin',
  'proxy_admin_viewer',
  'internal_user',
  'internal_user_viewer',
]);
export type UserRole = z.infer<typeof UserRole>;

/** Team member roles: exactly admin | user. litellm/models/team.py › Member. */
export const TeamMemberRole = z.enum(['admin', 'user']);
export type TeamMemberRole = z.infer<typeof TeamMemberRole>;

/** The query of a GET that takes none: anything passed is refused, not silently dropped. */
export const NoQuery = z.strictObject({});

/** A duration as LiteLLM parses it: `<n>s|m|h|d|w|mo`. litellm_core_utils/duration_parser.py. */
export const Duration = z.string().regex(/^\d+(s|m|h|d|w|mo)$/, 'a duration like 30d, 12h or 1mo');

const Metadata = z.record(z.string(), z.unknown());
const nullableNumber = z.number().nullish();
const nullableString = z.string().nullish();
/** Timestamps come as ISO strings (pydantic datetimes). */
const timestamp = z.string().nullish();

/** One member of a team, as sent and as returned. litellm/models/team.py › Member. */
export const TeamMember = z.looseObject({
  role: TeamMemberRole,
  user_id: nullableString,
  user_email: nullableString,
});
export type TeamMember = z.infer<typeof TeamMember>;

/** The member to send: one of user_id / user_email is required. */
export const TeamMemberInput = z
  .object({
    role: TeamMemberRole,
    user_id: z.string().optional(),
    user_email: z.string().optional(),
  })
  .refine((m) => m.user_id !== undefined || m.user_email !== undefined, {
    message: 'a member needs user_id or user_email',
  });
export type TeamMemberInput = z.input<typeof TeamMemberInput>;

// ---------------------------------------------------------------------------------------
// Rows (what LiteLLM stores and returns)

/** A user row. litellm/models/user.py › LiteLLM_UserTable. */
export const UserRow = z.looseObject({
  user_id: z.string(),
  user_email: nullableString,
  user_alias: nullableString,
  user_role: nullableString,
  teams: z.array(z.string()).nullish(),
  models: z.array(z.string()).nullish(),
  max_budget: nullableNumber,
  budget_duration: nullableString,
  /** When spend next resets to 0 (set with budget_duration). */
  budget_reset_at: timestamp,
  spend: nullableNumber,
  tpm_limit: nullableNumber,
  rpm_limit: nullableNumber,
  max_parallel_requests: nullableNumber,
  metadata: Metadata.nullish(),
});
export type UserRow = z.infer<typeof UserRow>;

/** A team row. litellm/models/team.py › LiteLLM_TeamTable. */
export const TeamRow = z.looseObject({
  team_id: z.string(),
  team_alias: nullableString,
  members_with_roles: z.array(TeamMember).nullish(),
  models: z.array(z.string()).nullish(),
  max_budget: nullableNumber,
  budget_duration: nullableString,
  /** When spend next resets to 0 (set with budget_duration). */
  budget_reset_at: timestamp,
  spend: nullableNumber,
  tpm_limit: nullableNumber,
  rpm_limit: nullableNumber,
  blocked: z.boolean().nullish(),
  metadata: Metadata.nullish(),
});
export type TeamRow = z.infer<typeof TeamRow>;

/** A key row (`token` is the SHA-256 hash). litellm/models/verification_token.py › LiteLLM_VerificationToken. */
export const KeyRow = z.looseObject({
  token: nullableString,
  key_name: nullableString,
  key_alias: nullableString,
  user_id: nullableString,
  team_id: nullableString,
  models: z.array(z.string()).nullish(),
  spend: nullableNumber,
  max_budget: nullableNumber,
  soft_budget: nullableNumber,
  budget_duration: nullableString,
  /** When spend next resets to 0 (set with budget_duration). */
  budget_reset_at: timestamp,
  tpm_limit: nullableNumber,
  rpm_limit: nullableNumber,
  max_parallel_requests: nullableNumber,
  expires: timestamp,
  blocked: z.boolean().nullish(),
  metadata: Metadata.nullish(),
  /** Route groups or routes the key may call; empty: whatever its role may. route_checks › is_virtual_key_allowed_to_call_route. */
  allowed_routes: z.array(z.unknown()).nullish(),
  key_type: nullableString,
  /** /key/info only: active | expired | revoked (blocked) | deleted. KME › info_key_fn. */
  status: nullableString,
});
export type KeyRow = z.infer<typeof KeyRow>;

// ---------------------------------------------------------------------------------------
// Users (CONTRACT-VERIFIED.md §1)

/**
 * POST /user/new — IUE › new_user; litellm/types/proxy/management_endpoints/user_requests.py ›
 * NewUserRequest. `auto_create_key` defaults to true in LiteLLM (it mints a key): this schema
 * makes it false unless the request says otherwise. An existing user_id or user_email → 409.
 * `teams`: failures to join are swallowed; the response lists only the teams joined.
 */
export const NewUserRequest = z.object({
  user_id: z.string().min(1),
  user_email: z.string().optional(),
  user_alias: z.string().optional(),
  user_role: UserRole.optional(),
  teams: z.array(z.string()).optional(),
  models: z.array(z.string()).optional(),
  max_budget: z.number().optional(),
  budget_duration: Duration.optional(),
  tpm_limit: z.number().int().optional(),
  rpm_limit: z.number().int().optional(),
  max_parallel_requests: z.number().int().optional(),
  metadata: Metadata.optional(),
  auto_create_key: z.boolean().default(false),
});
export type NewUserRequest = z.input<typeof NewUserRequest>;

/** _types › NewUserResponse (extends GenerateKeyResponse; `key` is "" without auto_create_key). */
export const NewUserResponse = z.looseObject({
  user_id: z.string(),
  key: z.string().nullish(),
  user_email: nullableString,
  user_role: nullableString,
  teams: z.array(z.unknown()).nullish(),
  models: z.array(z.string()).nullish(),
  max_budget: nullableNumber,
  metadata: Metadata.nullish(),
});
export type NewUserResponse = z.infer<typeof NewUserResponse>;

/**
 * GET /user/info?user_id= — IUE › user_info; _types › UserInfoResponse. Unknown → 404. An
 * empty id is refused: without one, LiteLLM answers about the caller instead.
 */
export const UserInfoQuery = z.object({ user_id: z.string().min(1) });
export const UserInfoResponse = z.looseObject({
  user_id: nullableString,
  user_info: UserRow.nullish(),
  keys: z.array(z.unknown()).nullish(),
  teams: z.array(z.unknown()).nullish(),
});
export type UserInfoResponse = z.infer<typeof UserInfoResponse>;

/**
 * POST /user/update — IUE › user_update, _update_internal_user_params. UPSERTS: an unknown
 * user_id is created, not a 404. Only max_budget, budget_duration, tpm_limit and rpm_limit
 * are cleared by an explicit null; null/[]/{} on any other field is ignored (so `models`
 * cannot be reset to [] here).
 */
export const UpdateUserRequest = z.object({
  user_id: z.string().min(1),
  user_email: z.string().optional(),
  user_alias: z.string().optional(),
  user_role: UserRole.optional(),
  models: z.array(z.string()).optional(),
  max_budget: z.number().nullable().optional(),
  budget_duration: Duration.nullable().optional(),
  tpm_limit: z.number().int().nullable().optional(),
  rpm_limit: z.number().int().nullable().optional(),
  max_parallel_requests: z.number().int().optional(),
  metadata: Metadata.optional(),
});
export type UpdateUserRequest = z.input<typeof UpdateUserRequest>;

/** `{user_id, data: <user row>}`. */
export const UpdateUserResponse = z.looseObject({
  user_id: nullableString,
  data: UserRow.partial().loose().nullish(),
});
export type UpdateUserResponse = z.infer<typeof UpdateUserResponse>;

/**
 * POST /user/delete `{user_ids}` — IUE › delete_user. Deletes their keys and memberships too.
 * One unknown id → 404 `{detail: {error}}` and nothing is deleted. The response is the NUMBER
 * of users deleted (bulk_user_deletion.py › delete_users_from_current_teams returns an int;
 * read in the installed 1.108.7 source, not listed in CONTRACT-VERIFIED.md).
 */
export const DeleteUsersRequest = z.object({ user_ids: z.array(z.string()).min(1) });
export type DeleteUsersRequest = z.input<typeof DeleteUsersRequest>;
export const DeleteUsersResponse = z.unknown();

/**
 * GET /user/list — IUE › get_users; UserListResponse. page ≥ 1, page_size 1..100; a single
 * `user_ids` value is a case-insensitive SUBSTRING match (two or more: exact).
 */
export const ListUsersQuery = z.object({
  page: z.number().int().min(1).optional(),
  page_size: z.number().int().min(1).max(100).optional(),
  user_ids: z.array(z.string()).optional(),
  role: UserRole.optional(),
  team: z.string().optional(),
});
export type ListUsersQuery = z.input<typeof ListUsersQuery>;
export const ListUsersResponse = z.looseObject({
  users: z.array(UserRow),
  total: z.number(),
  page: z.number(),
  page_size: z.number(),
  total_pages: z.number(),
});
export type ListUsersResponse = z.infer<typeof ListUsersResponse>;

// ---------------------------------------------------------------------------------------
// Teams (CONTRACT-VERIFIED.md §2)

/**
 * POST /team/new — TE › new_team; _types › NewTeamRequest. Existing team_id → 400 ("already
 * exists"). The master key adds `{role: admin, user_id: default_user_id}` to the members
 * unless general_settings.disable_auto_add_proxy_admin_to_teams. NO max_parallel_requests:
 * LiteLLM silently drops it for teams. Admins listed here need no Enterprise licence.
 */
export const NewTeamRequest = z.object({
  team_id: z.string().min(1),
  team_alias: z.string().optional(),
  members_with_roles: z.array(TeamMemberInput).optional(),
  models: z.array(z.string()).optional(),
  max_budget: z.number().optional(),
  budget_duration: Duration.optional(),
  tpm_limit: z.number().int().optional(),
  rpm_limit: z.number().int().optional(),
  metadata: Metadata.optional(),
  blocked: z.boolean().optional(),
});
export type NewTeamRequest = z.input<typeof NewTeamRequest>;
export const NewTeamResponse = TeamRow;

/** GET /team/info?team_id= — TE › team_info. Unknown → 404 (type auth_error). */
export const TeamInfoQuery = z.object({ team_id: z.string().min(1) });
export const TeamInfoResponse = z.looseObject({
  team_id: z.string(),
  team_info: TeamRow,
  keys: z.array(z.unknown()).nullish(),
});
export type TeamInfoResponse = z.infer<typeof TeamInfoResponse>;

/**
 * POST /team/update — TE › update_team; _types › UpdateTeamRequest. Cannot change members.
 * Explicit null clears max_budget, tpm_limit, rpm_limit, budget_duration. `models` must not
 * be null (send [] for all models). `metadata` replaces the stored metadata wholesale.
 * Unknown team → 404.
 */
export const UpdateTeamRequest = z.object({
  team_id: z.string().min(1),
  team_alias: z.string().optional(),
  models: z.array(z.string()).optional(),
  max_budget: z.number().nullable().optional(),
  budget_duration: Duration.nullable().optional(),
  tpm_limit: z.number().int().nullable().optional(),
  rpm_limit: z.number().int().nullable().optional(),
  metadata: Metadata.optional(),
  blocked: z.boolean().optional(),
});
export type UpdateTeamRequest = z.input<typeof UpdateTeamRequest>;
export const UpdateTeamResponse = z.looseObject({
  team_id: nullableString,
  data: TeamRow.partial().loose().nullish(),
});
export type UpdateTeamResponse = z.infer<typeof UpdateTeamResponse>;

/** POST /team/delete `{team_ids}` — TE › delete_team. Deletes the teams' keys. Unknown → 404. */
export const DeleteTeamsRequest = z.object({ team_ids: z.array(z.string()).min(1) });
export type DeleteTeamsRequest = z.input<typeof DeleteTeamsRequest>;
export const DeleteTeamsResponse = z.looseObject({ deleted_teams: z.array(z.string()).nullish() });

/** GET /team/list — TE › list_team. A bare array (not paginated). */
export const ListTeamsQuery = z.object({ user_id: z.string().optional() });
export type ListTeamsQuery = z.input<typeof ListTeamsQuery>;
export const ListTeamsResponse = z.array(TeamRow);

/**
 * POST /team/member_add — TE › team_member_add; _types › TeamMemberAddRequest.
 * role admin → 400 without an Enterprise licence. One member already present → 400
 * `team_member_already_in_team`; in a list, duplicates are skipped if any member is new.
 */
export const AddTeamMembersRequest = z.object({
  team_id: z.string().min(1),
  member: z.union([TeamMemberInput, z.array(TeamMemberInput).min(1)]),
  max_budget_in_team: z.number().optional(),
});
export type AddTeamMembersRequest = z.input<typeof AddTeamMembersRequest>;
export const AddTeamMembersResponse = z.looseObject({
  team_id: z.string(),
  members_with_roles: z.array(TeamMember).nullish(),
});

/**
 * POST /team/member_delete — TE › team_member_delete. Also DELETES the member's keys in that
 * team. Unknown team → 400; user not in team → 400 "User not found in team".
 */
export const DeleteTeamMemberRequest = z
  .object({
    team_id: z.string().min(1),
    user_id: z.string().optional(),
    user_email: z.string().optional(),
  })
  .refine((r) => r.user_id !== undefined || r.user_email !== undefined, {
    message: 'user_id or user_email is required',
  });
export type DeleteTeamMemberRequest = z.input<typeof DeleteTeamMemberRequest>;
export const DeleteTeamMemberResponse = z.looseObject({ team_id: nullableString });

/**
 * POST /team/member_update — TE › team_member_update; _types › TeamMemberUpdateRequest.
 * role admin → 400 without an Enterprise licence.
 */
export const UpdateTeamMemberRequest = z
  .object({
    team_id: z.string().min(1),
    user_id: z.string().optional(),
    user_email: z.string().optional(),
    role: TeamMemberRole.optional(),
    max_budget_in_team: z.number().optional(),
    tpm_limit: z.number().int().optional(),
    rpm_limit: z.number().int().optional(),
  })
  .refine((r) => r.user_id !== undefined || r.user_email !== undefined, {
    message: 'user_id or user_email is required',
  });
export type UpdateTeamMemberRequest = z.input<typeof UpdateTeamMemberRequest>;
export const UpdateTeamMemberResponse = z.looseObject({
  team_id: z.string(),
  user_id: nullableString,
  user_email: nullableString,
});

/** POST /team/block, /team/unblock `{team_id}` — TE › block_team, unblock_team. Not gated. */
export const TeamIdRequest = z.object({ team_id: z.string().min(1) });
export const BlockTeamResponse = TeamRow;

// ---------------------------------------------------------------------------------------
// Keys (CONTRACT-VERIFIED.md §3)

/**
 * POST /key/generate — KME › generate_key_fn; key_requests.py › GenerateKeyRequest.
 * `key`: our own value (`sk-`, ≥ 16 characters). NOT IDEMPOTENT and NOT A PROOF: a duplicate
 * `key` value answers 200 and changes nothing (prisma upsert with update {}), echoing the
 * requested fields with the existing token; a duplicate `key_alias` → 400. Verify with
 * /key/info. No `expires`: only `duration` (omitted = never expires). `tags`,
 * `model_max_budget` are Enterprise-only (403 / 500) and deliberately absent here.
 */
export const GenerateKeyRequest = z.object({
  key: z.string().startsWith('sk-').min(16),
  key_alias: z.string().optional(),
  user_id: z.string().optional(),
  team_id: z.string().optional(),
  models: z.array(z.string()).optional(),
  max_budget: z.number().optional(),
  soft_budget: z.number().optional(),
  budget_duration: Duration.optional(),
  tpm_limit: z.number().int().optional(),
  rpm_limit: z.number().int().optional(),
  max_parallel_requests: z.number().int().optional(),
  model_rpm_limit: z.record(z.string(), z.number()).optional(),
  model_tpm_limit: z.record(z.string(), z.number()).optional(),
  duration: Duration.optional(),
  metadata: Metadata.optional(),
  blocked: z.boolean().optional(),
  /** KME › handle_key_type: llm_api sets allowed_routes ["llm_api_routes"]. /key/generate only. */
  key_type: z.enum(['default', 'llm_api', 'management', 'read_only']).optional(),
  allowed_routes: z.array(z.string()).optional(),
});
export type GenerateKeyRequest = z.input<typeof GenerateKeyRequest>;

/** _types › GenerateKeyResponse: `key` plaintext, `token`/`token_id` the hash. */
export const GenerateKeyResponse = KeyRow.extend({
  key: z.string(),
  token_id: nullableString,
});
export type GenerateKeyResponse = z.infer<typeof GenerateKeyResponse>;

/**
 * GET /key/info?key= — KME › info_key_fn. `key` plaintext or hash (the client always sends the
 * hash); the response `key` echoes what was passed. Deleted keys answer 200 with
 * info.status "deleted"; only a key that never existed → 404 not_found_error. An empty `key`
 * is refused: without one, LiteLLM describes the calling key (the master key).
 */
export const KeyInfoQuery = z.object({ key: z.string().min(1) });
export const KeyInfoResponse = z.looseObject({
  key: z.string(),
  info: KeyRow,
});
export type KeyInfoResponse = z.infer<typeof KeyInfoResponse>;

/**
 * POST /key/update — KME › update_key_fn, prepare_key_update_data. Merge-patch: omitted keeps,
 * explicit null clears (max_budget, soft_budget, tpm_limit, rpm_limit, max_parallel_requests,
 * budget_duration). `duration: null` → never expires; `duration: "30d"` → 30 days FROM NOW
 * (so a retried update moves the expiry: the client does not retry updates carrying duration).
 * `metadata` replaces the stored metadata wholesale. Unknown key → 404.
 */
export const UpdateKeyRequest = z.object({
  key: z.string().min(1),
  key_alias: z.string().optional(),
  models: z.array(z.string()).optional(),
  max_budget: z.number().nullable().optional(),
  soft_budget: z.number().nullable().optional(),
  budget_duration: Duration.nullable().optional(),
  tpm_limit: z.number().int().nullable().optional(),
  rpm_limit: z.number().int().nullable().optional(),
  max_parallel_requests: z.number().int().nullable().optional(),
  model_rpm_limit: z.record(z.string(), z.number()).optional(),
  model_tpm_limit: z.record(z.string(), z.number()).optional(),
  duration: Duration.nullable().optional(),
  metadata: Metadata.optional(),
  team_id: z.string().optional(),
  user_id: z.string().optional(),
  blocked: z.boolean().optional(),
  /** UpdateKeyRequest has no key_type: an existing key is limited through allowed_routes. */
  allowed_routes: z.array(z.string()).optional(),
});
export type UpdateKeyRequest = z.input<typeof UpdateKeyRequest>;
export const UpdateKeyResponse = KeyRow.extend({ key: z.string() });
export type UpdateKeyResponse = z.infer<typeof UpdateKeyResponse>;

/**
 * POST /key/delete `{keys}` or `{key_aliases}` — KME › delete_key_fn. None found → 404; some
 * found → those deleted and `deleted_keys` echoes the request. Deleted keys are archived.
 */
export const DeleteKeysRequest = z
  .object({
    keys: z.array(z.string()).min(1).optional(),
    key_aliases: z.array(z.string()).min(1).optional(),
  })
  .refine((r) => r.keys !== undefined || r.key_aliases !== undefined, {
    message: 'keys or key_aliases is required',
  });
export type DeleteKeysRequest = z.input<typeof DeleteKeysRequest>;
export const DeleteKeysResponse = z.looseObject({ deleted_keys: z.unknown() });

/** POST /key/block, /key/unblock `{key}` (sk- or hash) — KME › block_key, unblock_key. */
export const KeyRequest = z.object({ key: z.string().min(1) });
export const BlockKeyResponse = KeyRow;

/**
 * GET /key/list — KME › list_keys; _types › KeyListResponseObject. The page size parameter is
 * `size` (1..100). `keys` holds hashes unless return_full_object=true.
 */
export const ListKeysQuery = z.object({
  page: z.number().int().min(1).optional(),
  size: z.number().int().min(1).max(100).optional(),
  user_id: z.string().optional(),
  team_id: z.string().optional(),
  key_alias: z.string().optional(),
  return_full_object: z.boolean().optional(),
  include_team_keys: z.boolean().optional(),
});
export type ListKeysQuery = z.input<typeof ListKeysQuery>;
export const ListKeysResponse = z.looseObject({
  keys: z.array(z.union([z.string(), KeyRow])),
  total_count: z.number().nullish(),
  current_page: z.number().nullish(),
  total_pages: z.number().nullish(),
});
export type ListKeysResponse = z.infer<typeof ListKeysResponse>;

// ---------------------------------------------------------------------------------------
// Models and health (CONTRACT-VERIFIED.md §6)

/** GET /model/info — PS (live). model_info has ~186 keys: parse leniently. */
export const ModelInfoResponse = z.looseObject({
  data: z.array(
    z.looseObject({
      model_name: z.string(),
      litellm_params: z.looseObject({ model: z.string() }),
      model_info: z
        .looseObject({
          id: nullableString,
          mode: nullableString,
          litellm_provider: nullableString,
          max_tokens: nullableNumber,
          max_input_tokens: nullableNumber,
          input_cost_per_token: nullableNumber,
          output_cost_per_token: nullableNumber,
        })
        .nullish(),
    }),
  ),
});
export type ModelInfoResponse = z.infer<typeof ModelInfoResponse>;

/** GET /v1/models — PS › model_list (live). Filtered to the key's models for a virtual key. */
export const ModelListResponse = z.looseObject({
  object: z.literal('list'),
  data: z.array(
    z.looseObject({
      id: z.string(),
      object: z.string(),
      created: nullableNumber,
      owned_by: nullableString,
    }),
  ),
});
export type ModelListResponse = z.infer<typeof ModelListResponse>;

/**
 * GET /health/readiness — _health_endpoints.py (live). Unauthenticated. `{status, db}`;
 * 503 while a configured database is unreachable or the proxy is shutting down.
 */
export const ReadinessResponse = z.looseObject({
  status: z.string(),
  db: nullableString,
});
export type ReadinessResponse = z.infer<typeof ReadinessResponse>;
