// LiteLLM's daily spend rollups (LiteLLM_DailyUserSpend, LiteLLM_DailyTeamSpend), kept as
// LiteLLM keeps them: every call adds its tokens, cost and request count to the row of its
// (UTC day, user or team, key hash, model, provider); a call without a team adds to no team
// row (db_spend_update_writer › add_spend_log_transaction_to_daily_team_transaction). The rows
// only ever grow: a budget reset does not touch them. CONTRACT-VERIFIED.md §10.

export interface DailySpendRow {
  /** Insertion order: the tie-break of LiteLLM's `order by date desc, id asc`. */
  id: number;
  /** The UTC day of the call, YYYY-MM-DD. */
  date: string;
  /** user_id (user table; "" for a key without one) or team_id (team table). */
  entity_id: string;
  api_key: string;
  /** The deployment's model; model_group is the public name the caller asked for. */
  model: string;
  model_group: string;
  custom_llm_provider: string;
  prompt_tokens: number;
  completion_tokens: number;
  spend: number;
  api_requests: number;
  successful_requests: number;
  failed_requests: number;
}

export interface DailyCall {
  at: Date;
  user_id: string | null;
  team_id: string | null;
  api_key: string;
  model: string;
  model_group: string;
  prompt_tokens: number;
  completion_tokens: number;
  spend: number;
}

export type DailyTable = 'user' | 'team';

export class DailySpend {
  readonly #rows: Record<DailyTable, Map<string, DailySpendRow>> = {
    user: new Map(),
    team: new Map(),
  };
  #nextId = 1;

  /** Books one successful call on its user row, and on its team row when it has a team. */
  book(call: DailyCall): void {
    this.#add('user', call.user_id ?? '', call);
    if (call.team_id) this.#add('team', call.team_id, call);
  }

  rows(table: DailyTable): DailySpendRow[] {
    return [...this.#rows[table].values()];
  }

  clear(): void {
    this.#rows.user.clear();
    this.#rows.team.clear();
  }

  #add(table: DailyTable, entityId: string, call: DailyCall): void {
    const date = call.at.toISOString().slice(0, 10);
    const id = [date, entityId, call.api_key, call.model, 'openai'].join('\u0000');
    let row = this.#rows[table].get(id);
    if (!row) {
      row = {
        id: this.#nextId++,
        date,
        entity_id: entityId,
        api_key: call.api_key,
        model: call.model,
        model_group: call.model_group,
        custom_llm_provider: 'openai',
        prompt_tokens: 0,
        completion_tokens: 0,
        spend: 0,
        api_requests: 0,
        successful_requests: 0,
        failed_requests: 0,
      };
      this.#rows[table].set(id, row);
    }
    row.prompt_tokens += call.prompt_tokens;
    row.completion_tokens += call.completion_tokens;
    row.spend += call.spend;
    row.api_requests += 1;
    row.successful_requests += 1;
  }
}
