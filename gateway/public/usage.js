/* global document, fetch, URLSearchParams */
// Spend against budget, for each of the person's teams and keys: GET /api/usage, drawn as an
// SVG chart of the spend added up day by day over the last 30 days, with the budget as a
// line. The chart is an image with a text alternative (role="img", <title>, <desc>); the
// same figures are in a table beside it, and as CSV and JSON downloads.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 180;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function html(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

const dollars = (usd) => `$${Number(usd).toFixed(2)}`;

/** The query of one subject's usage: {scope, name, namespace?}. */
export function usageQuery(subject, extra = {}) {
  const query = { scope: subject.scope, name: subject.name, since: '30d', ...extra };
  if (subject.namespace) query.namespace = subject.namespace;
  return `/api/usage?${new URLSearchParams(query)}`;
}

/** Spend added up day by day; the budget line where there is one. */
function chart(usage, id) {
  let running = 0;
  const points = usage.days.map((day) => (running += Number(day.spend)));
  const budget = usage.budget?.maxBudget === undefined ? undefined : Number(usage.budget.maxBudget);
  const top = Math.max(running, budget ?? 0, 0.01);
  const x = (i) => PAD.left + (i * (WIDTH - PAD.left - PAD.right)) / Math.max(points.length - 1, 1);
  const y = (usd) => PAD.top + (1 - usd / top) * (HEIGHT - PAD.top - PAD.bottom);

  const summary =
    budget === undefined
      ? `${dollars(running)} spent from ${usage.since} to ${usage.until}; no budget.`
      : `${dollars(running)} spent from ${usage.since} to ${usage.until}, against a budget of ${dollars(budget)}.`;
  const image = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`,
    class: 'usage-chart',
  });
  image.append(
    svg('title', { id: `${id}-title` }, `Spend of ${usage.scope} ${usage.name}`),
    svg('desc', { id: `${id}-desc` }, summary),
  );
  const axis = svg('g', { class: 'axis', 'aria-hidden': 'true' });
  axis.append(
    svg('line', { x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: HEIGHT - PAD.bottom }),
    svg('line', {
      x1: PAD.left,
      x2: WIDTH - PAD.right,
      y1: HEIGHT - PAD.bottom,
      y2: HEIGHT - PAD.bottom,
    }),
    svg('text', { x: PAD.left - 4, y: PAD.top + 4, 'text-anchor': 'end' }, dollars(top)),
    svg('text', { x: PAD.left - 4, y: HEIGHT - PAD.bottom, 'text-anchor': 'end' }, '$0'),
    svg('text', { x: PAD.left, y: HEIGHT - 8 }, usage.since),
    svg('text', { x: WIDTH - PAD.right, y: HEIGHT - 8, 'text-anchor': 'end' }, usage.until),
  );
  image.append(axis);
  if (budget !== undefined) {
    image.append(
      svg('line', {
        class: 'budget-line',
        x1: PAD.left,
        x2: WIDTH - PAD.right,
        y1: y(budget),
        y2: y(budget),
        'aria-hidden': 'true',
      }),
    );
  }
  image.append(
    svg('polyline', {
      class: 'spend-line',
      points: points.map((usd, i) => `${x(i)},${y(usd)}`).join(' '),
      'aria-hidden': 'true',
    }),
  );
  return { image, summary };
}

/** The same figures as a table: each day with requests. */
function figuresTable(usage) {
  const table = html('table', null, { class: 'usage-table' });
  table.append(html('caption', `Usage of ${usage.scope} ${usage.name}, per day and model`));
  const head = html('tr');
  for (const c of ['Date', 'Model', 'Spend', 'Prompt tokens', 'Completion tokens', 'Requests']) {
    head.append(html('th', c, { scope: 'col' }));
  }
  const thead = html('thead');
  thead.append(head);
  const body = html('tbody');
  for (const day of usage.days) {
    for (const m of day.models) {
      const tr = html('tr');
      for (const cell of [
        day.date,
        m.model,
        dollars(m.spend),
        m.promptTokens,
        m.completionTokens,
        m.requests,
      ]) {
        tr.append(html('td', cell));
      }
      body.append(tr);
    }
  }
  if (!body.children.length) {
    const tr = html('tr');
    tr.append(html('td', 'No requests in this range.', { colspan: '6' }));
    body.append(tr);
  }
  table.append(thead, body);
  return table;
}

/** One subject's usage block; a failure is shown in its place, not over the page. */
export async function usageBlock(subject, index) {
  const id = `usage-${index}`;
  const section = html('section', null, { class: 'usage', 'aria-labelledby': `${id}-heading` });
  const label =
    subject.scope === 'key' ? `Key ${subject.namespace}/${subject.name}` : `Team ${subject.name}`;
  section.append(html('h3', label, { id: `${id}-heading` }));
  const response = await fetch(usageQuery(subject), {
    headers: { accept: 'application/json' },
    credentials: 'same-origin',
  });
  const usage = await response.json().catch(() => ({}));
  if (!response.ok) {
    section.append(html('p', usage.error?.message ?? `Usage answered ${response.status}.`));
    return section;
  }
  const { image, summary } = chart(usage, id);
  section.append(html('p', summary), image);
  const details = html('details');
  details.append(html('summary', 'Figures per day and model'), figuresTable(usage));
  const links = html('p', null, { class: 'downloads' });
  links.append(
    html('a', 'Download CSV', {
      href: usageQuery(subject, { format: 'csv' }),
      download: '',
      'aria-label': `Download the usage of ${label} as CSV`,
    }),
    document.createTextNode(' · '),
    html('a', 'JSON', {
      href: usageQuery(subject),
      'aria-label': `The usage of ${label} as JSON`,
    }),
  );
  section.append(details, links);
  return section;
}
