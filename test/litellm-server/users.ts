// /user/* as LiteLLM 1.108.7 answers them (CONTRACT-VERIFIED.md §1).
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from './auth.ts';
import type { ServerContext } from './context.ts';
import {
  bool,
  bodyOf,
  dict,
  int,
  num,
  newestFirst,
  paginate,
  queryInt,
  queryOf,
  str,
  strList,
} from './fields.ts';
import { detailError, HttpError, managementError, validationError } from './http-errors.ts';
import { createKey } from './keys.ts';
import type { Json, TeamRecord, UserRecord } from './store.ts';

const USER_ROLES = ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer'];

function userRole(body: Json, field = 'user_role'): string | null | undefined {
  const role = str(body, field);
  if (role != null && !USER_ROLES.includes(role)) {
    throw validationError([
      {
        type: 'literal_error',
        loc: ['body', field],
        msg: "Input should be 'proxy_admin', 'proxy_admin_viewer', 'internal_user' or 'internal_user_viewer'",
        input: role,
      },
    ]);
  }
  return role;
}

/** The row as /user/info and /user/update return it (no password). */
export function userRow(user: UserRecord): Json {
  return { ...user };
}

/** team_member_add without its errors: what /user/new does for each of `teams` (failures swallowed). */
function joinTeam(ctx: ServerContext, team: TeamRecord | undefined, user: UserRecord): boolean {
  if (!team) return false;
  if (ctx.store.isMember(team, { user_id: user.user_id })) return true;
  ctx.store.addMembership(team, {
    role: 'user',
    user_id: user.user_id,
    user_email: user.user_email,
  });
  return true;
}

export function registerUserRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { store } = ctx;

  // IUE › new_user
  app.post('/user/new', async (request) => {
    requireAdmin(ctx, request);
    const body = bodyOf(request);
    if (body.password !== undefined) {
      throw validationError([
        {
          type: 'value_error',
          loc: ['body', 'password'],
          msg: 'Value error, password is not supported on /user/new',
          input: body.password,
        },
      ]);
    }
    const role = userRole(body);
    const userId = str(body, 'user_id') || randomUUID();
    const email = str(body, 'user_email') ?? null;
    const teamsField = body.teams;
    const budgetDuration = str(body, 'budget_duration') ?? null;
    // _check_duplicate_user_id / _check_duplicate_user_email → 409 through the wrapper.
    if (store.users.has(userId))
      throw managementError(409, { error: `User with id ${userId} already exists` });
    if (email && store.findUserByEmail(email))
      throw managementError(409, { error: `User with email ${email} already exists` });

    const user = store.newUser({
      user_id: userId,
      user_email: email,
      user_alias: str(body, 'user_alias') ?? null,
      user_role: role ?? null,
      models: strList(body, 'models') ?? [],
      max_budget: num(body, 'max_budget') ?? null,
      budget_duration: budgetDuration,
      budget_reset_at: store.budgetResetAt(budgetDuration),
      tpm_limit: int(body, 'tpm_limit') ?? null,
      rpm_limit: int(body, 'rpm_limit') ?? null,
      max_parallel_requests: int(body, 'max_parallel_requests') ?? null,
      metadata: dict(body, 'metadata') ?? {},
    });

    let key = '';
    let expires: string | null = null;
    if (bool(body, 'auto_create_key') !== false) {
      const plaintext = `sk-${randomBytes(16).toString('base64url')}`;
      const record = createKey(ctx, plaintext, {
        user_id: userId,
        key_alias: str(body, 'key_alias') ?? null,
        duration: str(body, 'duration') ?? undefined,
        models: user.models,
      });
      key = plaintext;
      expires = record.expires;
    }

    let teams: string[] | undefined;
    if (Array.isArray(teamsField)) {
      teams = [];
      for (const entry of teamsField) {
        const teamId = typeof entry === 'string' ? entry : (entry as Json)?.team_id;
        if (typeof teamId === 'string' && joinTeam(ctx, store.teams.get(teamId), user))
          teams.push(teamId);
      }
    }
    return {
      ...userRow(user),
      key,
      expires,
      ...(teams ? { teams } : {}),
    };
  });

  // IUE › user_info
  app.get('/user/info', async (request) => {
    requireAdmin(ctx, request);
    const userId = queryOf(request).user_id;
    if (!userId) throw detailError(400, { error: 'user_id is required' });
    const user = store.users.get(userId);
    if (!user) throw managementError(404, `User ${userId} not found`);
    return {
      user_id: userId,
      user_info: userRow(user),
      keys: store.keysOf((k) => k.user_id === userId).map((k) => ({ ...k })),
      teams: user.teams.flatMap((t) => {
        const team = store.teams.get(t);
        return team ? [{ ...team }] : [];
      }),
    };
  });

  // IUE › user_update: upsert; null clears only four fields; errors are auth_error/"None".
  app.post('/user/update', async (request) => {
    requireAdmin(ctx, request);
    try {
      const body = bodyOf(request);
      const userId = str(body, 'user_id');
      const email = str(body, 'user_email');
      if (!userId && !email) {
        throw validationError([
          {
            type: 'value_error',
            loc: ['body'],
            msg: 'Value error, user_id or user_email is required',
            input: body,
          },
        ]);
      }
      const role = userRole(body);
      let user = userId ? store.users.get(userId) : store.findUserByEmail(email!);
      user ??= store.newUser({ user_id: userId || randomUUID(), user_email: email ?? null });
      const clearable = ['max_budget', 'budget_duration', 'tpm_limit', 'rpm_limit'] as const;
      for (const field of clearable) {
        if (!(field in body)) continue;
        if (body[field] === null) {
          (user as unknown as Json)[field] = null;
          if (field === 'budget_duration') user.budget_reset_at = null;
        }
      }
      const maxBudget = num(body, 'max_budget');
      if (maxBudget != null) user.max_budget = maxBudget;
      const duration = str(body, 'budget_duration');
      if (duration) {
        user.budget_duration = duration;
        user.budget_reset_at = store.budgetResetAt(duration);
      }
      const tpm = int(body, 'tpm_limit');
      if (tpm != null) user.tpm_limit = tpm;
      const rpm = int(body, 'rpm_limit');
      if (rpm != null) user.rpm_limit = rpm;
      // Every other field: null, [] and {} are ignored (_update_internal_user_params).
      const alias = str(body, 'user_alias');
      if (alias) user.user_alias = alias;
      if (email && userId) user.user_email = email;
      if (role) user.user_role = role;
      const models = strList(body, 'models');
      if (models && models.length > 0) user.models = models;
      const parallel = int(body, 'max_parallel_requests');
      if (parallel != null) user.max_parallel_requests = parallel;
      const metadata = dict(body, 'metadata');
      if (metadata && Object.keys(metadata).length > 0) user.metadata = metadata;
      const spend = num(body, 'spend');
      if (spend != null) user.spend = spend;
      const mmb = body.model_max_budget;
      if (mmb === null) user.model_max_budget = {};
      user.updated_at = store.timestamp();
      return { user_id: user.user_id, data: userRow(user) };
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      const inner = (err.body as { error?: { message?: string }; detail?: unknown }) ?? {};
      const message = inner.error?.message ?? JSON.stringify(inner.detail ?? inner);
      throw new HttpError(err.status, {
        error: { message, type: 'auth_error', param: 'None', code: String(err.status) },
      });
    }
  });

  // IUE › delete_user: bare HTTPException errors; returns the number of users deleted.
  app.post('/user/delete', async (request) => {
    requireAdmin(ctx, request);
    const body = bodyOf(request);
    const ids = strList(body, 'user_ids');
    if (!ids || ids.length === 0) throw detailError(400, { error: 'No user id passed in' });
    for (const id of ids) {
      if (!store.users.has(id))
        throw detailError(404, { error: `User not found, passed user_id=${id}` });
    }
    const unique = new Set(ids);
    store.dropKeys((k) => k.user_id !== null && unique.has(k.user_id));
    for (const team of store.teams.values()) {
      const before = team.members_with_roles.length;
      team.members_with_roles = team.members_with_roles.filter(
        (m) => !(m.user_id && unique.has(m.user_id)),
      );
      if (team.members_with_roles.length !== before) team.updated_at = store.timestamp();
    }
    for (const id of unique) store.users.delete(id);
    return unique.size;
  });

  // IUE › get_users: {users (+key_count), total, page, page_size, total_pages}
  app.get('/user/list', async (request) => {
    requireAdmin(ctx, request);
    const query = queryOf(request);
    const page = queryInt(query, 'page', 1, 1);
    const pageSize = queryInt(query, 'page_size', 25, 1, 100);
    let users = [...store.users.values()];
    if (query.role) users = users.filter((u) => u.user_role === query.role);
    if (query.user_ids) {
      const ids = query.user_ids
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      users =
        ids.length === 1
          ? users.filter((u) => u.user_id.toLowerCase().includes(ids[0]!.toLowerCase()))
          : users.filter((u) => ids.includes(u.user_id));
    }
    if (query.user_email) {
      const wanted = query.user_email.toLowerCase();
      users = users.filter((u) => u.user_email?.toLowerCase().includes(wanted));
    }
    if (query.team) users = users.filter((u) => u.teams.includes(query.team!));
    users.sort(newestFirst);
    const { items, total, totalPages } = paginate(users, page, pageSize);
    return {
      users: items.map((u) => ({
        ...userRow(u),
        key_count: store.keysOf((k) => k.user_id === u.user_id).length,
      })),
      total,
      page,
      page_size: pageSize,
      total_pages: totalPages,
    };
  });
}
