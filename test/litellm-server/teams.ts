// /team/* as LiteLLM 1.108.7 answers them (CONTRACT-VERIFIED.md §2).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { requireAdmin, type Caller } from './auth.ts';
import type { ServerContext } from './context.ts';
import { bool, bodyOf, dict, int, num, queryOf, str, strList } from './fields.ts';
import {
  detailError,
  enterpriseFieldError,
  managementError,
  missingField,
  NOT_PREMIUM_USER,
  proxyError,
  validationError,
} from './http-errors.ts';
import type { Json, TeamMember, TeamRecord } from './store.ts';

/** Metadata-backed fields that need a licence when non-empty (common_utils.py › set_object_metadata_field). */
export const PREMIUM_METADATA_FIELDS = [
  'tags',
  'guardrails',
  'policies',
  'prompts',
  'team_member_key_duration',
  'secret_manager_settings',
  'allowed_passthrough_routes',
  'denied_passthrough_routes',
  'disable_global_guardrails',
  'logging',
];

/** 403 for the first non-empty premium field, unless licensed. An empty list or false passes. */
export function checkPremiumFields(
  ctx: ServerContext,
  body: Json,
  fields: readonly string[] = PREMIUM_METADATA_FIELDS,
): void {
  if (ctx.licensed) return;
  for (const field of fields) {
    const v = body[field];
    const empty =
      v === undefined ||
      v === null ||
      v === false ||
      (Array.isArray(v) && v.length === 0) ||
      (typeof v === 'object' && !Array.isArray(v) && v !== null && Object.keys(v).length === 0);
    if (!empty) throw enterpriseFieldError(field);
  }
}

function parseMembers(value: unknown, where: (string | number)[]): TeamMember[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((raw, i) => {
    const m = (raw ?? {}) as Json;
    const loc = Array.isArray(value) ? [...where, i] : where;
    if (m.role !== 'admin' && m.role !== 'user') {
      throw validationError([
        {
          type: m.role === undefined ? 'missing' : 'literal_error',
          loc: [...loc, 'role'],
          msg: m.role === undefined ? 'Field required' : "Input should be 'admin' or 'user'",
          input: m.role,
        },
      ]);
    }
    const userId = typeof m.user_id === 'string' ? m.user_id : null;
    const email = typeof m.user_email === 'string' ? m.user_email : null;
    if (!userId && !email) {
      throw validationError([
        {
          type: 'value_error',
          loc,
          msg: 'Value error, Either user_id or user_email must be provided',
          input: m,
        },
      ]);
    }
    return { role: m.role, user_id: userId, user_email: email };
  });
}

export function teamRow(team: TeamRecord): Json {
  return { ...team, members_with_roles: team.members_with_roles.map((m) => ({ ...m })) };
}

const teamNotFound = (teamId: string) => ({ error: `Team not found, passed team_id=${teamId}` });

export function registerTeamRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { store } = ctx;

  // TE › new_team
  app.post('/team/new', async (request) => {
    const caller: Caller = requireAdmin(ctx, request);
    const body = bodyOf(request);
    const teamId = str(body, 'team_id') || randomUUID();
    if (store.teams.has(teamId)) {
      throw managementError(400, {
        error: `Team id = ${teamId} already exists. Please use a different team id.`,
      });
    }
    checkPremiumFields(ctx, body);
    const mmb = dict(body, 'model_max_budget');
    if (!ctx.licensed && mmb && Object.keys(mmb).length > 0)
      throw enterpriseFieldError('model_max_budget');
    const members =
      body.members_with_roles === undefined || body.members_with_roles === null
        ? []
        : parseMembers(body.members_with_roles, ['body', 'members_with_roles']);
    const maxBudget = num(body, 'max_budget') ?? null;
    const softBudget = num(body, 'soft_budget') ?? null;
    if (softBudget !== null && maxBudget !== null && softBudget >= maxBudget) {
      throw managementError(400, {
        error: `soft_budget (${softBudget}) must be strictly lower than max_budget (${maxBudget})`,
      });
    }
    const budgetDuration = str(body, 'budget_duration') ?? null;
    const metadata = { ...(dict(body, 'metadata') ?? {}) };
    for (const field of PREMIUM_METADATA_FIELDS) {
      const v = body[field];
      if (v !== undefined && v !== null) metadata[field] = v;
    }
    const team = store.newTeam({
      team_id: teamId,
      team_alias: str(body, 'team_alias') ?? null,
      models: strList(body, 'models') ?? [],
      max_budget: maxBudget,
      soft_budget: softBudget,
      budget_duration: budgetDuration,
      budget_reset_at: store.budgetResetAt(budgetDuration),
      tpm_limit: int(body, 'tpm_limit') ?? null,
      rpm_limit: int(body, 'rpm_limit') ?? null,
      metadata,
      blocked: bool(body, 'blocked') ?? false,
      // max_parallel_requests is not a NewTeamRequest field: silently dropped.
    });
    for (const member of members) store.addMembership(team, member);
    // _should_auto_add_team_creator: the caller (the master key has default_user_id) joins as admin.
    if (
      !ctx.disableAutoAddProxyAdminToTeams &&
      caller.user_id &&
      !store.isMember(team, { user_id: caller.user_id })
    ) {
      store.addMembership(team, { role: 'admin', user_id: caller.user_id, user_email: null });
    }
    return teamRow(team);
  });

  // TE › team_info: unknown → ProxyException 404 type auth_error.
  app.get('/team/info', async (request) => {
    requireAdmin(ctx, request);
    const teamId = queryOf(request).team_id;
    if (!teamId) {
      throw proxyError(
        422,
        `{'detail': [{'type': 'missing', 'loc': ('query', 'team_id'), 'msg': 'Field required'}]}`,
        'auth_error',
        'None',
      );
    }
    const team = store.teams.get(teamId);
    if (!team)
      throw proxyError(
        404,
        `{'message': 'Team not found, passed team id: ${teamId}.'}`,
        'auth_error',
        'None',
      );
    return {
      team_id: teamId,
      team_info: teamRow(team),
      keys: store.keysOf((k) => k.team_id === teamId).map((k) => ({ ...k })),
      team_memberships: [],
    };
  });

  // TE › update_team: explicit null clears four columns; metadata replaced; members untouched.
  app.post('/team/update', async (request) => {
    requireAdmin(ctx, request);
    const body = bodyOf(request);
    const teamId = str(body, 'team_id');
    if (!teamId) throw missingField('body', 'team_id', body);
    const team = store.teams.get(teamId);
    if (!team) throw managementError(404, teamNotFound(teamId));
    checkPremiumFields(ctx, body);
    const mmb = body.model_max_budget;
    if (!ctx.licensed && mmb && typeof mmb === 'object' && Object.keys(mmb).length > 0)
      throw enterpriseFieldError('model_max_budget');
    for (const field of [
      'max_budget',
      'tpm_limit',
      'rpm_limit',
      'budget_duration',
      'soft_budget',
    ] as const) {
      if (field in body && body[field] === null) {
        team[field] = null;
        if (field === 'budget_duration') team.budget_reset_at = null;
      }
    }
    if (body.models === null)
      throw managementError(500, 'Argument models must be a list of strings, got null');
    const models = strList(body, 'models');
    if (models) team.models = models;
    const maxBudget = num(body, 'max_budget');
    if (maxBudget != null) team.max_budget = maxBudget;
    const softBudget = num(body, 'soft_budget');
    if (softBudget != null) team.soft_budget = softBudget;
    const duration = str(body, 'budget_duration');
    if (duration) {
      team.budget_duration = duration;
      team.budget_reset_at = store.budgetResetAt(duration);
    }
    const tpm = int(body, 'tpm_limit');
    if (tpm != null) team.tpm_limit = tpm;
    const rpm = int(body, 'rpm_limit');
    if (rpm != null) team.rpm_limit = rpm;
    if ('team_alias' in body) team.team_alias = str(body, 'team_alias') ?? null;
    const blocked = bool(body, 'blocked');
    if (blocked != null) team.blocked = blocked;
    const metadata = dict(body, 'metadata');
    if (metadata) {
      // Replaced wholesale; system-managed keys survive.
      const kept = Object.fromEntries(
        Object.entries(team.metadata).filter(([k]) => k === 'team_member_budget_id'),
      );
      team.metadata = { ...metadata, ...kept };
    }
    for (const field of PREMIUM_METADATA_FIELDS) {
      const v = body[field];
      if (v !== undefined && v !== null) team.metadata[field] = v;
    }
    if (mmb === null) team.model_max_budget = {};
    team.updated_at = store.timestamp();
    return { team_id: teamId, data: teamRow(team) };
  });

  // TE › delete_team: bare HTTPException errors; deletes the teams' keys.
  app.post('/team/delete', async (request) => {
    requireAdmin(ctx, request);
    const body = bodyOf(request);
    const ids = strList(body, 'team_ids');
    if (!ids || ids.length === 0) throw detailError(400, { error: 'No team id passed in' });
    const unique = [...new Set(ids)];
    for (const id of unique) if (!store.teams.has(id)) throw detailError(404, teamNotFound(id));
    for (const id of unique) {
      store.dropKeys((k) => k.team_id === id);
      for (const user of store.users.values()) user.teams = user.teams.filter((t) => t !== id);
      store.teams.delete(id);
    }
    return { deleted_teams: ids };
  });

  // TE › list_team: a bare array, each team with keys and team_memberships.
  app.get('/team/list', async (request) => {
    requireAdmin(ctx, request);
    const userId = queryOf(request).user_id;
    const teams = [...store.teams.values()].filter(
      (t) => !userId || store.isMember(t, { user_id: userId }),
    );
    return teams.map((t) => ({
      ...teamRow(t),
      keys: store.keysOf((k) => k.team_id === t.team_id).map((k) => ({ ...k })),
      team_memberships: [],
    }));
  });

  // TE › team_member_add
  app.post('/team/member_add', async (request) => {
    requireAdmin(ctx, request);
    const body = bodyOf(request);
    const teamId = str(body, 'team_id');
    if (!teamId) throw missingField('body', 'team_id', body);
    if (body.member === undefined || body.member === null)
      throw missingField('body', 'member', body);
    const members = parseMembers(body.member, ['body', 'member']);
    const team = store.teams.get(teamId);
    if (!team) throw detailError(404, teamNotFound(teamId));
    if (!ctx.licensed && members.some((m) => m.role === 'admin')) {
      throw detailError(400, {
        error: `Assigning team admins is a premium feature. ${NOT_PREMIUM_USER}`,
      });
    }
    const fresh = members.filter((m) => !store.isMember(team, m));
    if (fresh.length === 0) {
      const existing = JSON.stringify(team.members_with_roles);
      if (Array.isArray(body.member)) {
        throw proxyError(
          400,
          `All users are already in team. Existing members=${existing}`,
          'team_member_already_in_team',
          'member',
        );
      }
      const m = members[0]!;
      throw proxyError(
        400,
        `User already in team. Member: user_id=${m.user_id}, user_email=${m.user_email}. Existing members=${existing}`,
        'team_member_already_in_team',
        'member',
      );
    }
    for (const m of fresh) store.addMembership(team, m);
    return {
      ...teamRow(team),
      updated_users: fresh.flatMap((m) => (m.user_id ? [{ ...store.users.get(m.user_id)! }] : [])),
      updated_team_memberships: [],
    };
  });

  // TE › team_member_delete: bare HTTPException errors; also deletes the member's keys in the team.
  app.post('/team/member_delete', async (request) => {
    requireAdmin(ctx, request);
    const body = bodyOf(request);
    const teamId = str(body, 'team_id');
    if (!teamId) throw missingField('body', 'team_id', body);
    const userId = str(body, 'user_id') ?? null;
    const email = str(body, 'user_email') ?? null;
    if (!userId && !email)
      throw detailError(400, { error: 'Either user_id or user_email needs to be passed in' });
    const team = store.teams.get(teamId);
    if (!team) throw detailError(400, teamNotFound(teamId));
    const index = store.memberIndex(team, { user_id: userId, user_email: email });
    if (index < 0) throw detailError(400, { error: 'User not found in team' });
    const [removed] = team.members_with_roles.splice(index, 1);
    team.updated_at = store.timestamp();
    const memberId =
      removed?.user_id ?? (email ? store.findUserByEmail(email)?.user_id : undefined);
    if (memberId) {
      const user = store.users.get(memberId);
      if (user) user.teams = user.teams.filter((t) => t !== teamId);
      store.dropKeys((k) => k.user_id === memberId && k.team_id === teamId);
    }
    return teamRow(team);
  });

  // TE › team_member_update
  app.post('/team/member_update', async (request) => {
    requireAdmin(ctx, request);
    const body = bodyOf(request);
    const teamId = str(body, 'team_id');
    if (!teamId) throw missingField('body', 'team_id', body);
    const userId = str(body, 'user_id') ?? null;
    const email = str(body, 'user_email') ?? null;
    const role = str(body, 'role');
    if (role != null && role !== 'admin' && role !== 'user') {
      throw validationError([
        {
          type: 'literal_error',
          loc: ['body', 'role'],
          msg: "Input should be 'admin' or 'user'",
          input: role,
        },
      ]);
    }
    const team = store.teams.get(teamId);
    if (!team) throw detailError(400, teamNotFound(teamId));
    if (role === 'admin' && !ctx.licensed) {
      throw detailError(400, `Assigning team admins is a premium feature. ${NOT_PREMIUM_USER}`);
    }
    const index = store.memberIndex(team, { user_id: userId, user_email: email });
    if (index < 0) throw detailError(400, { error: `User is not a member of team_id=${teamId}` });
    const member = team.members_with_roles[index]!;
    if (role) member.role = role;
    team.updated_at = store.timestamp();
    return {
      team_id: teamId,
      user_id: member.user_id,
      user_email: member.user_email,
      max_budget_in_team: num(body, 'max_budget_in_team') ?? null,
      tpm_limit: int(body, 'tpm_limit') ?? null,
      rpm_limit: int(body, 'rpm_limit') ?? null,
      budget_duration: str(body, 'budget_duration') ?? null,
      allowed_models: strList(body, 'allowed_models') ?? null,
    };
  });

  // TE › block_team / unblock_team: not gated.
  for (const [path, blocked] of [
    ['/team/block', true],
    ['/team/unblock', false],
  ] as const) {
    app.post(path, async (request) => {
      requireAdmin(ctx, request);
      const body = bodyOf(request);
      const teamId = str(body, 'team_id');
      if (!teamId) throw missingField('body', 'team_id', body);
      const team = store.teams.get(teamId);
      if (!team) throw detailError(404, teamNotFound(teamId));
      team.blocked = blocked;
      team.updated_at = store.timestamp();
      return teamRow(team);
    });
  }
}
