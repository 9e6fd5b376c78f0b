// The test server's database: users, teams and keys as LiteLLM's tables hold them
// (litellm/models/user.py › LiteLLM_UserTable, team.py › LiteLLM_TeamTable,
// verification_token.py › LiteLLM_VerificationToken). Keys are stored by their SHA-256 hash
// only, as LiteLLM does; /key/delete moves a key to an archive that /key/info still answers
// from (status "deleted").
import { createHash } from 'node:crypto';
import { internalError } from './http-errors.ts';
import { DailySpend } from './daily-spend.ts';

export type Json = Record<string, unknown>;

export interface TeamMember {
  role: 'admin' | 'user';
  user_id: string | null;
  user_email: string | null;
}

export interface UserRecord {
  user_id: string;
  user_email: string | null;
  user_alias: string | null;
  user_role: string | null;
  teams: string[];
  models: string[];
  max_budget: number | null;
  budget_duration: string | null;
  budget_reset_at: string | null;
  spend: number;
  tpm_limit: number | null;
  rpm_limit: number | null;
  max_parallel_requests: number | null;
  metadata: Json;
  model_max_budget: Json;
  model_spend: Json;
  created_at: string;
  updated_at: string;
}

export interface TeamRecord {
  team_id: string;
  team_alias: string | null;
  organization_id: string | null;
  admins: string[];
  members: string[];
  members_with_roles: TeamMember[];
  metadata: Json;
  tpm_limit: number | null;
  rpm_limit: number | null;
  max_budget: number | null;
  soft_budget: number | null;
  budget_duration: string | null;
  budget_reset_at: string | null;
  models: string[];
  blocked: boolean;
  spend: number;
  max_parallel_requests: number | null;
  model_spend: Json;
  model_max_budget: Json;
  created_at: string;
  updated_at: string;
}

export interface KeyRecord {
  token: string;
  key_name: string;
  key_alias: string | null;
  spend: number;
  max_budget: number | null;
  soft_budget: number | null;
  expires: string | null;
  models: string[];
  aliases: Json;
  config: Json;
  user_id: string | null;
  team_id: string | null;
  max_parallel_requests: number | null;
  metadata: Json;
  tpm_limit: number | null;
  rpm_limit: number | null;
  budget_duration: string | null;
  budget_reset_at: string | null;
  allowed_cache_controls: string[];
  allowed_routes: string[];
  key_type: string | null;
  permissions: Json;
  model_spend: Json;
  model_max_budget: Json;
  blocked: boolean | null;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  updated_by: string | null;
}

export interface DeletedKeyRecord extends KeyRecord {
  deleted_at: string;
  deleted_by: string;
}

export function hashToken(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** LiteLLM's hash_token_if_needed. */
export function tokenOf(keyOrHash: string): string {
  return keyOrHash.startsWith('sk-') ? hashToken(keyOrHash) : keyOrHash;
}

export function isHash(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}

/** `sk-...` + last 4: LiteLLM's abbreviated key name. */
export function abbreviate(key: string): string {
  return `sk-...${key.slice(-4)}`;
}

const durationPattern = /^(\d+)(s|m|h|d|w|mo)$/;

/**
 * now + duration; duration_parser.py › duration_in_seconds. An invalid value raises
 * ValueError in LiteLLM, which the management routes answer with 500.
 */
export function addDuration(now: Date, duration: string): Date {
  const match = durationPattern.exec(duration);
  if (!match) throw internalError(`Invalid duration format: ${duration}`);
  const n = Number(match[1]);
  const unit = match[2]!;
  const out = new Date(now);
  if (unit === 'mo') {
    out.setUTCMonth(out.getUTCMonth() + n);
    return out;
  }
  const seconds = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[
    unit as 's' | 'm' | 'h' | 'd' | 'w'
  ];
  return new Date(now.getTime() + n * seconds * 1000);
}

export class Store {
  readonly users = new Map<string, UserRecord>();
  readonly teams = new Map<string, TeamRecord>();
  /** Live keys by token (hash). */
  readonly keys = new Map<string, KeyRecord>();
  /** Keys removed by /key/delete, by token. */
  readonly deletedKeys = new Map<string, DeletedKeyRecord>();
  /** The daily spend rollups /user|team/daily/activity read. */
  readonly dailySpend = new DailySpend();
  readonly now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.now = now;
  }

  clear(): void {
    this.users.clear();
    this.teams.clear();
    this.keys.clear();
    this.deletedKeys.clear();
    this.dailySpend.clear();
  }

  timestamp(): string {
    return this.now().toISOString();
  }

  budgetResetAt(duration: string | null): string | null {
    return duration ? addDuration(this.now(), duration).toISOString() : null;
  }

  newUser(fields: Partial<UserRecord> & { user_id: string }): UserRecord {
    const ts = this.timestamp();
    const user: UserRecord = {
      user_email: null,
      user_alias: null,
      user_role: null,
      teams: [],
      models: [],
      max_budget: null,
      budget_duration: null,
      budget_reset_at: null,
      spend: 0,
      tpm_limit: null,
      rpm_limit: null,
      max_parallel_requests: null,
      metadata: {},
      model_max_budget: {},
      model_spend: {},
      created_at: ts,
      updated_at: ts,
      ...fields,
    };
    this.users.set(user.user_id, user);
    return user;
  }

  /** The user row for `userId`, created bare when missing (LiteLLM does so for team members). */
  ensureUser(userId: string, email: string | null = null): UserRecord {
    return this.users.get(userId) ?? this.newUser({ user_id: userId, user_email: email });
  }

  findUserByEmail(email: string): UserRecord | undefined {
    const wanted = email.toLowerCase();
    for (const user of this.users.values()) {
      if (user.user_email?.toLowerCase() === wanted) return user;
    }
    return undefined;
  }

  newTeam(fields: Partial<TeamRecord> & { team_id: string }): TeamRecord {
    const ts = this.timestamp();
    const team: TeamRecord = {
      team_alias: null,
      organization_id: null,
      admins: [],
      members: [],
      members_with_roles: [],
      metadata: {},
      tpm_limit: null,
      rpm_limit: null,
      max_budget: null,
      soft_budget: null,
      budget_duration: null,
      budget_reset_at: null,
      models: [],
      blocked: false,
      spend: 0,
      max_parallel_requests: null,
      model_spend: {},
      model_max_budget: {},
      created_at: ts,
      updated_at: ts,
      ...fields,
    };
    this.teams.set(team.team_id, team);
    return team;
  }

  /** Adds the membership on both sides (team.members_with_roles, user.teams). */
  addMembership(team: TeamRecord, member: TeamMember): void {
    team.members_with_roles.push(member);
    team.updated_at = this.timestamp();
    if (member.user_id) {
      const user = this.ensureUser(member.user_id, member.user_email);
      if (!user.teams.includes(team.team_id)) user.teams.push(team.team_id);
    }
  }

  isMember(
    team: TeamRecord,
    ref: { user_id?: string | null; user_email?: string | null },
  ): boolean {
    return this.memberIndex(team, ref) >= 0;
  }

  memberIndex(
    team: TeamRecord,
    ref: { user_id?: string | null; user_email?: string | null },
  ): number {
    return team.members_with_roles.findIndex(
      (m) =>
        (ref.user_id != null && m.user_id === ref.user_id) ||
        (ref.user_id == null && ref.user_email != null && m.user_email === ref.user_email),
    );
  }

  newKey(fields: Partial<KeyRecord> & { token: string; key_name: string }): KeyRecord {
    const ts = this.timestamp();
    const key: KeyRecord = {
      key_alias: null,
      spend: 0,
      max_budget: null,
      soft_budget: null,
      expires: null,
      models: [],
      aliases: {},
      config: {},
      user_id: null,
      team_id: null,
      max_parallel_requests: null,
      metadata: {},
      tpm_limit: null,
      rpm_limit: null,
      budget_duration: null,
      budget_reset_at: null,
      allowed_cache_controls: [],
      allowed_routes: [],
      key_type: 'default',
      permissions: {},
      model_spend: {},
      model_max_budget: {},
      blocked: null,
      created_at: ts,
      created_by: 'default_user_id',
      updated_at: ts,
      updated_by: 'default_user_id',
      ...fields,
    };
    this.keys.set(key.token, key);
    return key;
  }

  /** A key by plaintext or hash (utils.py › hash_token_if_needed: `sk-…` is hashed, else taken as the token). */
  findKey(keyOrHash: string): KeyRecord | undefined {
    return this.keys.get(tokenOf(keyOrHash));
  }

  /** Moves keys to the deleted archive (/key/delete). */
  archiveKeys(tokens: Iterable<string>): void {
    for (const token of tokens) {
      const key = this.keys.get(token);
      if (!key) continue;
      this.keys.delete(token);
      this.deletedKeys.set(token, {
        ...key,
        deleted_at: this.timestamp(),
        deleted_by: 'default_user_id',
      });
    }
  }

  /** Drops keys without archiving them (user, team and member deletion use delete_many). */
  dropKeys(predicate: (key: KeyRecord) => boolean): number {
    let n = 0;
    for (const [token, key] of this.keys) {
      if (predicate(key)) {
        this.keys.delete(token);
        n++;
      }
    }
    return n;
  }

  keyStatus(key: KeyRecord): 'active' | 'expired' | 'revoked' {
    if (key.blocked) return 'revoked';
    // KME › _key_status: `expires < now`.
    if (key.expires && Date.parse(key.expires) < this.now().getTime()) return 'expired';
    return 'active';
  }

  keysOf(predicate: (key: KeyRecord) => boolean): KeyRecord[] {
    return [...this.keys.values()].filter(predicate);
  }
}
