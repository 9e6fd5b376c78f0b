// Every LiteLLM admin endpoint the operator calls, as one table: method, path, the schema of
// what is sent (the query of a GET, the JSON body of a POST), the schema of what comes back,
// and whether a repeat is safe. client.ts has one call path that reads an entry: it validates
// the request (nothing is sent when it does not match), sends it, validates the response,
// retries only idempotent entries and labels its metrics with the entry's path. The schemas
// are the record of the verified contract (schemas.ts, CONTRACT-VERIFIED.md).
//
// Idempotent: safe to send twice after a lost response. Every GET is. A POST is when it sets
// absolute values (updates, block/unblock). NOT idempotent, never retried by the client (the
// reconciler's next run observes and converges instead):
//
//   /user/new, /team/new        a repeat after a lost response answers 409 / 400 "already exists"
//   /key/generate               a repeated `key` value answers 200 and CHANGES NOTHING (even
//                               if the first request's settings differed); a repeated alias
//                               answers 400. A 200 is no proof: verify with keyInfo(hash).
//   /team/member_add            a repeat answers 400 team_member_already_in_team
//   /team/member_delete         a repeat answers 400 "User not found in team" (and the first
//                               one also deleted the member's keys in that team)
//   /user|team|key/delete       a repeat answers 404 (callers treat notFound as "gone")
//   /key/update with `duration` the expiry is "now + duration", so every repeat moves it
//
// Key material: plaintext keys are sent only to /key/generate. Every other key endpoint takes
// the hash, so `wire` turns a plaintext key into its hash after validation: no key value
// travels in a URL or comes back in LiteLLM's error messages. `secrets` names the request's
// values that error messages must redact besides the master key.
import type { z } from 'zod';
import { keyToken } from './hash.ts';
import * as s from './schemas.ts';

export type Method = 'GET' | 'POST';

export interface Endpoint<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  method: Method;
  /** The route, without a query string; also the `endpoint` label of the client's metrics. */
  path: string;
  /** GET: the query parameters; POST: the JSON body. */
  request: Req;
  response: Res;
  /** Safe to send twice (see above); a function when it depends on the request. */
  idempotent: boolean | IdempotentWhen<z.output<Req>>;
  /** Send no Authorization header (the unauthenticated health routes). */
  anonymous?: boolean;
  /** What is sent for a validated request, when it is not the request itself. */
  wire?(request: z.output<Req>): unknown;
  /** Values of the request to redact from error messages (plaintext keys). */
  secrets?(request: z.output<Req>): readonly string[];
}

/** Declared as a method, so an entry stays assignable to `Endpoint` whatever its request type. */
type IdempotentWhen<R> = { bivarianceHack(request: R): boolean }['bivarianceHack'];

/** Types each entry's callbacks from its own request schema. */
function endpoint<Req extends z.ZodType, Res extends z.ZodType>(
  entry: Endpoint<Req, Res>,
): Endpoint<Req, Res> {
  return entry;
}

const hashed = <R extends { key: string }>(r: R): R => ({ ...r, key: keyToken(r.key) });
const theKey = (r: { key: string }) => [r.key];

export const endpoints = {
  // ---- users (CONTRACT-VERIFIED.md §1)
  newUser: endpoint({
    method: 'POST',
    path: '/user/new',
    request: s.NewUserRequest,
    response: s.NewUserResponse,
    idempotent: false,
  }),
  userInfo: endpoint({
    method: 'GET',
    path: '/user/info',
    request: s.UserInfoQuery,
    response: s.UserInfoResponse,
    idempotent: true,
  }),
  updateUser: endpoint({
    method: 'POST',
    path: '/user/update',
    request: s.UpdateUserRequest,
    response: s.UpdateUserResponse,
    idempotent: true,
  }),
  deleteUsers: endpoint({
    method: 'POST',
    path: '/user/delete',
    request: s.DeleteUsersRequest,
    response: s.DeleteUsersResponse,
    idempotent: false,
  }),
  listUsers: endpoint({
    method: 'GET',
    path: '/user/list',
    request: s.ListUsersQuery,
    response: s.ListUsersResponse,
    idempotent: true,
  }),

  // ---- teams (§2)
  newTeam: endpoint({
    method: 'POST',
    path: '/team/new',
    request: s.NewTeamRequest,
    response: s.NewTeamResponse,
    idempotent: false,
  }),
  teamInfo: endpoint({
    method: 'GET',
    path: '/team/info',
    request: s.TeamInfoQuery,
    response: s.TeamInfoResponse,
    idempotent: true,
  }),
  updateTeam: endpoint({
    method: 'POST',
    path: '/team/update',
    request: s.UpdateTeamRequest,
    response: s.UpdateTeamResponse,
    idempotent: true,
  }),
  deleteTeams: endpoint({
    method: 'POST',
    path: '/team/delete',
    request: s.DeleteTeamsRequest,
    response: s.DeleteTeamsResponse,
    idempotent: false,
  }),
  listTeams: endpoint({
    method: 'GET',
    path: '/team/list',
    request: s.ListTeamsQuery,
    response: s.ListTeamsResponse,
    idempotent: true,
  }),
  addTeamMembers: endpoint({
    method: 'POST',
    path: '/team/member_add',
    request: s.AddTeamMembersRequest,
    response: s.AddTeamMembersResponse,
    idempotent: false,
  }),
  deleteTeamMember: endpoint({
    method: 'POST',
    path: '/team/member_delete',
    request: s.DeleteTeamMemberRequest,
    response: s.DeleteTeamMemberResponse,
    idempotent: false,
  }),
  updateTeamMember: endpoint({
    method: 'POST',
    path: '/team/member_update',
    request: s.UpdateTeamMemberRequest,
    response: s.UpdateTeamMemberResponse,
    idempotent: true,
  }),
  blockTeam: endpoint({
    method: 'POST',
    path: '/team/block',
    request: s.TeamIdRequest,
    response: s.BlockTeamResponse,
    idempotent: true,
  }),
  unblockTeam: endpoint({
    method: 'POST',
    path: '/team/unblock',
    request: s.TeamIdRequest,
    response: s.BlockTeamResponse,
    idempotent: true,
  }),

  // ---- keys (§3)
  generateKey: endpoint({
    method: 'POST',
    path: '/key/generate',
    request: s.GenerateKeyRequest,
    response: s.GenerateKeyResponse,
    idempotent: false,
    secrets: theKey,
  }),
  keyInfo: endpoint({
    method: 'GET',
    path: '/key/info',
    request: s.KeyInfoQuery,
    response: s.KeyInfoResponse,
    idempotent: true,
    wire: hashed,
    secrets: theKey,
  }),
  updateKey: endpoint({
    method: 'POST',
    path: '/key/update',
    request: s.UpdateKeyRequest,
    response: s.UpdateKeyResponse,
    idempotent: (r) => r.duration === undefined,
    wire: hashed,
    secrets: theKey,
  }),
  deleteKeys: endpoint({
    method: 'POST',
    path: '/key/delete',
    request: s.DeleteKeysRequest,
    response: s.DeleteKeysResponse,
    idempotent: false,
    wire: (r) => (r.keys ? { ...r, keys: r.keys.map(keyToken) } : r),
    secrets: (r) => r.keys ?? [],
  }),
  listKeys: endpoint({
    method: 'GET',
    path: '/key/list',
    request: s.ListKeysQuery,
    response: s.ListKeysResponse,
    idempotent: true,
  }),
  blockKey: endpoint({
    method: 'POST',
    path: '/key/block',
    request: s.KeyRequest,
    response: s.BlockKeyResponse,
    idempotent: true,
    wire: hashed,
    secrets: theKey,
  }),
  unblockKey: endpoint({
    method: 'POST',
    path: '/key/unblock',
    request: s.KeyRequest,
    response: s.BlockKeyResponse,
    idempotent: true,
    wire: hashed,
    secrets: theKey,
  }),

  // ---- models and health (§6)
  listModels: endpoint({
    method: 'GET',
    path: '/v1/models',
    request: s.NoQuery,
    response: s.ModelListResponse,
    idempotent: true,
  }),
  modelInfo: endpoint({
    method: 'GET',
    path: '/model/info',
    request: s.NoQuery,
    response: s.ModelInfoResponse,
    idempotent: true,
  }),
  readiness: endpoint({
    method: 'GET',
    path: '/health/readiness',
    request: s.NoQuery,
    response: s.ReadinessResponse,
    idempotent: true,
    anonymous: true,
  }),
} as const;

export type EndpointName = keyof typeof endpoints;

/** Whether `request` (validated) may be sent twice. */
export function isIdempotent<Req extends z.ZodType>(
  entry: Endpoint<Req>,
  request: z.output<Req>,
): boolean {
  return typeof entry.idempotent === 'function' ? entry.idempotent(request) : entry.idempotent;
}
