/* global document, fetch, Node, FormData, navigator, setTimeout, clearTimeout, location */
// The self-service page: reads /api as the signed-in person and renders it with DOM calls
// (textContent only: nothing from the API is parsed as HTML). State-changing calls carry the
// session's CSRF token (GET /auth/session) in x-csrf-token.

import { usageBlock } from './usage.js';

const $ = (id) => document.getElementById(id);
let csrfToken = '';

/** A fetch of the API: the JSON answer, or throws the OpenAI-shaped error's message. */
async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(
      answer.error?.message ?? `${method} ${path} answered ${response.status}`,
    );
    error.status = response.status;
    throw error;
  }
  return answer;
}

function el(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function showAlert(message) {
  $('alert').textContent = message;
}

function showWarnings(warnings) {
  const list = $('warnings');
  list.replaceChildren(...warnings.map((w) => el('li', w)));
}

function table(caption, columns, rows) {
  const t = el('table');
  t.append(el('caption', caption));
  const head = el('tr');
  for (const c of columns) head.append(el('th', c, { scope: 'col' }));
  const thead = el('thead');
  thead.append(head);
  t.append(thead);
  const body = el('tbody');
  for (const row of rows) {
    const tr = el('tr');
    for (const cell of row) {
      const td = el('td');
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell ?? '';
      tr.append(td);
    }
    body.append(tr);
  }
  t.append(body);
  return t;
}

/** Spend against budget as a meter; just the spend when there is no budget. */
function spendCell(spend, budget) {
  const used = Number(spend ?? 0);
  if (budget === null || budget === undefined) return el('span', `$${used.toFixed(2)}`);
  const max = Number(budget);
  const wrap = el('span', null, { class: 'spend' });
  const label = `$${used.toFixed(2)} of $${max.toFixed(2)}`;
  const meter = el('meter', label, {
    min: '0',
    max: String(max),
    value: String(Math.min(used, max)),
    high: String(max * 0.8),
    optimum: '0',
    'aria-label': `Spend: ${label}`,
  });
  wrap.append(meter, el('span', ` ${label}`));
  return wrap;
}

function state(phase, reason, message) {
  const text = phase === 'Ready' ? 'Ready' : `${phase}${reason ? ` (${reason})` : ''}`;
  return el('span', text, { title: message ?? '', class: `phase phase-${phase.toLowerCase()}` });
}

let myTeams = [];
let teamModels = new Map();

function renderTeams(me, models) {
  const container = $('teams');
  container.replaceChildren();
  if (me.teams.length === 0) container.append(el('p', 'You are in no team yet.'));
  for (const team of models.teams) {
    const section = el('section', null, { 'aria-labelledby': `team-${team.team}` });
    const role = me.teams.find((t) => t.name === team.team)?.role ?? 'member';
    section.append(el('h3', `${team.team} (${role})`, { id: `team-${team.team}` }));
    section.append(el('p', `Namespaces: ${team.namespaces.join(', ') || 'none'}`));
    section.append(
      table(
        `Models of team ${team.team}`,
        ['Model', 'Usable now', 'Subscriptions'],
        team.models.map((m) => [
          m.model,
          m.active ? 'yes' : 'no',
          m.missingSubscription
            ? 'missing: create a ModelSubscription'
            : m.subscriptions.map((s) => `${s.namespace}/${s.name}: ${s.phase}`).join(', ') ||
              (m.allowed ? '' : 'not allowed to this team'),
        ]),
      ),
    );
    container.append(section);
  }
}

function renderCreateForm() {
  const select = $('create-namespace');
  const previous = select.value;
  select.replaceChildren();
  teamModels = new Map();
  for (const team of myTeams) {
    for (const namespace of team.namespaces) {
      select.append(el('option', `${namespace} (team ${team.team})`, { value: namespace }));
      teamModels.set(
        namespace,
        team.models.filter((m) => m.active).map((m) => m.model),
      );
    }
  }
  if (previous) select.value = previous;
  renderModelChoices();
}

function renderModelChoices() {
  const models = teamModels.get($('create-namespace').value) ?? [];
  const box = $('create-models');
  box.replaceChildren();
  if (models.length === 0) box.append(el('p', 'This team has no usable model yet.'));
  models.forEach((model, i) => {
    const id = `create-model-${i}`;
    const input = el('input', null, { type: 'checkbox', id, name: 'models', value: model });
    const label = el('label', model, { for: id });
    const row = el('span', null, { class: 'choice' });
    row.append(input, label);
    box.append(row);
  });
}

function renderKeys(keys) {
  const body = $('keys').querySelector('tbody');
  body.replaceChildren();
  $('no-keys').hidden = keys.length > 0;
  for (const key of keys) {
    const tr = el('tr');
    const revoke = key.deleting
      ? el('span', 'Revoking…')
      : el('button', 'Revoke', {
          type: 'button',
          'aria-label': `Revoke key ${key.namespace}/${key.name}`,
        });
    if (!key.deleting) revoke.addEventListener('click', () => revokeKey(key, revoke));
    for (const cell of [
      key.name,
      key.namespace,
      state(key.phase, key.reason, key.message),
      key.models.join(', ') || key.requestedModels.join(', ') || 'all of the team’s',
      key.expiresAt ?? 'never',
      spendCell(key.spend, key.budget),
      revoke,
    ]) {
      const td = el('td');
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell;
      tr.append(td);
    }
    tr.dataset.key = `${key.namespace}/${key.name}`;
    body.append(tr);
  }
}

async function revokeKey(key, button) {
  button.disabled = true;
  try {
    await api(
      'DELETE',
      `/api/me/keys/${encodeURIComponent(key.namespace)}/${encodeURIComponent(key.name)}`,
    );
    showAlert(`Key ${key.namespace}/${key.name} revoked.`);
    await refreshKeys();
    $('keys-heading').focus();
  } catch (err) {
    showAlert(err.message);
    button.disabled = false;
  }
}

let refreshTimer;

let myKeys = [];

async function refreshKeys() {
  const { keys, warnings } = await api('GET', '/api/me/keys');
  myKeys = keys;
  renderKeys(keys);
  // A revoked key stays until the operator has removed it from LiteLLM: look again soon.
  clearTimeout(refreshTimer);
  if (keys.some((k) => k.deleting)) {
    refreshTimer = setTimeout(() => void refreshKeys().catch(() => {}), 1000);
  }
  return warnings;
}

function openKeyDialog(created) {
  const dialog = $('key-dialog');
  $('key-value').value = created.value;
  $('key-secret').textContent =
    `Secret: ${created.key.namespace}/${created.key.secretName ?? created.key.name}`;
  $('copy-status').textContent = '';
  dialog.showModal();
  $('key-value').focus();
  $('key-value').select();
}

function closeKeyDialog() {
  const dialog = $('key-dialog');
  // The value leaves the page with the dialog.
  $('key-value').value = '';
  if (dialog.open) dialog.close();
  $('create-submit').focus();
}

async function createKey(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData(form);
  const body = { namespace: data.get('namespace'), models: data.getAll('models') };
  for (const field of ['name', 'budget', 'duration']) {
    const value = String(data.get(field) ?? '').trim();
    if (value) body[field] = value;
  }
  const submit = $('create-submit');
  submit.disabled = true;
  submit.textContent = 'Creating…';
  try {
    const created = await api('POST', '/api/me/keys', body);
    await refreshKeys();
    if (created.value) {
      showAlert('');
      openKeyDialog(created);
    } else {
      showAlert(created.warnings.join(' '));
    }
    form.reset();
    renderModelChoices();
  } catch (err) {
    showAlert(err.message);
  } finally {
    submit.disabled = false;
    submit.textContent = 'Create key';
  }
}

async function renderAdmin() {
  const container = $('admin');
  const [teams, users, keys] = await Promise.all([
    api('GET', '/api/admin/teams'),
    api('GET', '/api/admin/users'),
    api('GET', '/api/admin/keys'),
  ]);
  container.replaceChildren(
    table(
      'Teams',
      ['Team', 'Namespaces', 'Members', 'Models', 'State', 'Spend'],
      teams.teams.map((t) => [
        t.name,
        t.namespaces.join(', '),
        t.memberCount,
        t.models.join(', '),
        state(t.phase, t.reason, t.message),
        spendCell(t.spend, t.budget),
      ]),
    ),
    table(
      'Users',
      ['User', 'E-mail', 'Role', 'Teams', 'State', 'Spend'],
      users.users.map((u) => [
        u.name,
        u.email,
        u.role,
        u.teams.join(', '),
        state(u.phase, u.reason, u.message),
        spendCell(u.spend, u.budget),
      ]),
    ),
    table(
      'Keys',
      ['Key', 'User', 'Team', 'State', 'Models', 'Spend'],
      keys.keys.map((k) => [
        `${k.namespace}/${k.name}`,
        k.user ?? '(service key)',
        k.team,
        state(k.phase, k.reason, k.message),
        k.models.join(', '),
        spendCell(k.spend, k.budget),
      ]),
    ),
  );
}

/** Logout is a POST (with the CSRF token); then the provider ends its session too, if it can. */
/** Spend against budget for each of my teams and keys (GET /api/usage), one after another. */
async function renderUsage(served) {
  const subjects = [
    ...myTeams.map((t) => ({ scope: 'team', name: t.team })),
    ...myKeys.map((k) => ({ scope: 'key', namespace: k.namespace, name: k.name })),
  ];
  if (subjects.length === 0 || !served) return;
  $('usage-section').hidden = false;
  const blocks = [];
  for (const [i, subject] of subjects.entries()) blocks.push(await usageBlock(subject, i));
  $('usage').replaceChildren(...blocks);
}

async function signOut(event) {
  event.preventDefault();
  try {
    const answer = await api('POST', '/auth/logout');
    location.assign(answer.endSessionUrl ?? location.pathname);
  } catch (err) {
    showAlert(err.message);
  }
}

async function start() {
  $('create').addEventListener('submit', createKey);
  $('create-namespace').addEventListener('change', renderModelChoices);
  $('close-key').addEventListener('click', closeKeyDialog);
  $('key-dialog').addEventListener('close', () => {
    $('key-value').value = '';
  });
  $('copy-key').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText($('key-value').value);
      $('copy-status').textContent = 'Copied.';
    } catch {
      $('key-value').select();
      $('copy-status').textContent = 'Select the key and copy it (Ctrl+C).';
    }
  });

  let me;
  try {
    me = await api('GET', '/api/me');
  } catch (err) {
    if (err.status === 401) {
      // Back to this page after the provider (the login's default is /, not the page).
      $('login').href = `/auth/login?returnTo=${encodeURIComponent(location.pathname)}`;
      $('login').hidden = false;
      $('signed-out').hidden = false;
      return;
    }
    showAlert(err.message);
    return;
  }
  const session = await api('GET', '/auth/session').catch(() => ({}));
  csrfToken = session.csrfToken ?? '';
  $('who').textContent = `Signed in as ${me.login} (${me.role})`;
  $('logout').hidden = false;
  $('logout').addEventListener('click', signOut);
  const warnings = [...me.warnings];
  try {
    const models = await api('GET', '/api/models');
    warnings.push(...models.warnings);
    myTeams = models.teams;
    renderTeams(me, models);
    $('teams-section').hidden = false;
    renderCreateForm();
    if (me.userName) {
      warnings.push(...(await refreshKeys()));
      $('keys-section').hidden = false;
    }
    await renderUsage(me.usage).catch((err) => {
      $('usage').replaceChildren(el('p', err.message));
    });
    if (me.role === 'admin') {
      $('admin-section').hidden = false;
      await renderAdmin().catch((err) => {
        $('admin').replaceChildren(el('p', err.message));
      });
    }
  } catch (err) {
    showAlert(err.message);
  }
  showWarnings(warnings);
}

void start();
