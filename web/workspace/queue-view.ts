import type { Actor, QueueAnswer, QueueEntry } from './api-types';
import { announce, formatDate, h, plural } from './dom';
import { href, navigate, params, rememberQueue } from './navigation';
import { statusBadge } from './parts';
import type { Session } from './session';

/**
 * The queue: every request, oldest first, with filters that live in the page's address, a search
 * by reference or organisation, an exact search by account address, paging and a CSV export of
 * what the filters find.
 */
const STATUS_OPTIONS: Array<[string, string]> = [
  ['open', 'Open (awaiting review or in review)'],
  ['all', 'All requests'],
  ['submitted', 'Awaiting review'],
  ['in_review', 'In review'],
  ['decided', 'Decided'],
  ['completed', 'Completed'],
  ['withdrawn', 'Withdrawn'],
];

const FILTER_NAMES = ['status', 'reviewer', 'organisation', 'overdue', 'q', 'address'] as const;
type FilterName = (typeof FILTER_NAMES)[number];

function filtersFromAddress(): Record<FilterName, string> {
  const current = params();
  return Object.fromEntries(FILTER_NAMES.map((name) => [name, current.get(name) ?? ''])) as Record<FilterName, string>;
}

function queryOf(filters: Record<string, string>, page?: number): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  if (page && page > 1) query.set('page', String(page));
  return query.toString();
}

export async function renderQueue(main: HTMLElement, session: Session, me: Actor): Promise<void> {
  rememberQueue();
  const filters = filtersFromAddress();
  const page = Math.max(1, Number(params().get('page') ?? '1') || 1);
  const heading = h('h1', { tabindex: -1 }, 'Queue');
  main.replaceChildren(heading, h('p', { class: 'loading' }, 'Loading the queue…'));
  const answer = await session.json<QueueAnswer>(`queue?${queryOf(filters, page)}`);

  const go = (next: Record<string, string>, nextPage = 1) => navigate(href('queue', { ...next, page: nextPage > 1 ? nextPage : undefined }));
  const form = filterForm(filters, answer.reviewers, me, answer.overdueAfterWorkingDays, go, session);
  const pages = Math.max(1, Math.ceil(answer.total / answer.pageSize));
  const first = answer.total === 0 ? 0 : (answer.page - 1) * answer.pageSize + 1;
  const last = Math.min(answer.total, answer.page * answer.pageSize);
  const summary = answer.total === 0 ? 'No requests match these filters.' : `${plural(answer.total, 'request')}; showing ${first} to ${last}, oldest first.`;

  main.replaceChildren(
    heading,
    form,
    h('div', { class: 'summary-line' }, h('p', { id: 'queue-summary', role: 'status' }, summary)),
    answer.entries.length > 0 ? queueTable(answer.entries, filters) : h('p', { class: 'muted' }, 'Try fewer filters, or All requests.'),
    pager(answer.page, pages, (nextPage) => go(filters, nextPage)),
  );
  await nameDropdownControls(main);
  announce(summary);
}

function filterForm(
  filters: Record<FilterName, string>,
  reviewers: Actor[],
  me: Actor,
  overdueAfter: number,
  go: (next: Record<string, string>) => void,
  session: Session,
): HTMLElement {
  const status = dropdown('filter-status', 'Status', STATUS_OPTIONS, filters.status || 'open');
  const reviewerOptions: Array<[string, string]> = [
    ['any', 'Anyone or nobody'],
    ['mine', `Mine (${me.name})`],
    ['unassigned', 'Unassigned'],
    ...reviewers.filter((reviewer) => reviewer.id !== me.id).map((reviewer): [string, string] => [reviewer.id, reviewer.name]),
  ];
  const reviewer = dropdown('filter-reviewer', 'Reviewer', reviewerOptions, filters.reviewer || 'any');
  const organisation = textInput('filter-organisation', 'Organisation ODS code', filters.organisation);
  const text = textInput('filter-q', 'Reference or organisation', filters.q);
  const address = textInput('filter-address', 'Account address (exact)', filters.address, 'address');
  const overdue = h('fluent-checkbox', { id: 'filter-overdue', slot: 'input', checked: filters.overdue === 'true' });
  const overdueField = h(
    'fluent-field',
    { 'label-position': 'after' },
    h('label', { slot: 'label', for: 'filter-overdue' }, `Overdue only (${plural(overdueAfter, 'working day')} or more)`),
    overdue,
  );

  const read = (): Record<string, string> => {
    const reviewerValue = valueOf(reviewer.control);
    return {
      status: valueOf(status.control) || 'open',
      reviewer: reviewerValue === 'any' ? '' : reviewerValue,
      organisation: valueOf(organisation).trim(),
      overdue: (overdue as unknown as { checked: boolean }).checked ? 'true' : '',
      q: valueOf(text).trim(),
      address: valueOf(address).trim(),
    };
  };
  const apply = () => go(read());
  for (const control of [status.control, reviewer.control, overdue]) control.addEventListener('change', apply);
  for (const input of [organisation, text, address]) {
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') apply();
    });
  }

  const exportButton = h('fluent-button', { id: 'export-csv' }, 'Export CSV');
  const exportStatus = h('p', { class: 'muted', role: 'status', id: 'export-status' });
  exportButton.addEventListener('click', () => void exportQueue(session, read(), exportStatus));

  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'filters-heading' },
    h('h2', { id: 'filters-heading' }, 'Filters and search'),
    h('div', { class: 'filters', role: 'search' }, status.field, reviewer.field, organisation, overdueField, text, address),
    h(
      'div',
      { class: 'actions' },
      h('fluent-button', { appearance: 'primary', id: 'apply-filters', onclick: apply }, 'Search'),
      h('fluent-button', { id: 'clear-filters', onclick: () => go({}) }, 'Clear filters'),
      exportButton,
      exportStatus,
    ),
  );
}

async function exportQueue(session: Session, filters: Record<string, string>, status: HTMLElement): Promise<void> {
  status.textContent = 'Preparing the export…';
  try {
    const answer = await session.fetch(`export.csv?${queryOf(filters)}`);
    const blob = await answer.blob();
    const name = /filename="([^"]+)"/.exec(answer.headers.get('content-disposition') ?? '')?.[1] ?? 'nas-transfer-queue.csv';
    const link = h('a', { href: URL.createObjectURL(blob), download: name }) as HTMLAnchorElement;
    document.body.append(link);
    link.click();
    link.remove();
    status.textContent = `Exported ${name}.`;
  } catch (error) {
    status.textContent = `The export failed: ${(error as Error).message}`;
  }
}

function queueTable(entries: QueueEntry[], filters: Record<string, string>): HTMLElement {
  const header = [
    'Reference',
    'Organisation',
    'Requested by',
    'Status',
    'Age (working days)',
    'Reviewer',
    'Accounts',
    'Eligible',
    'Review',
    'Approved',
    'Rejected',
    'Transferred',
    'Changed since submission',
  ];
  const numeric = new Set(['Age (working days)', 'Accounts', 'Eligible', 'Review', 'Approved', 'Rejected', 'Transferred', 'Changed since submission']);
  return h(
    'div',
    { class: 'table-scroll', role: 'region', 'aria-labelledby': 'queue-caption', tabindex: 0 },
    h(
      'table',
      { id: 'queue-table' },
      h('caption', { id: 'queue-caption' }, 'Transfer requests, oldest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          header.map((title) => h('th', { scope: 'col', class: numeric.has(title) ? 'number' : null }, title)),
        ),
      ),
      h(
        'tbody',
        {},
        entries.map((entry) =>
          h(
            'tr',
            { 'data-reference': entry.reference },
            h(
              'th',
              { scope: 'row' },
              h('a', { href: href('request', { id: entry.id }), 'data-internal': true }, entry.reference),
              h('div', { class: 'muted' }, formatDate(entry.createdAt)),
            ),
            h(
              'td',
              { class: 'wrap' },
              entry.organisationName,
              h(
                'div',
                {},
                h(
                  'a',
                  {
                    href: href('queue', { ...filters, organisation: entry.organisationOds }),
                    'data-internal': true,
                    'aria-label': `Only ${entry.organisationOds}`,
                  },
                  entry.organisationOds,
                ),
              ),
            ),
            h('td', {}, entry.requesterName),
            h('td', {}, statusBadge(entry.status, entry.statusLabel)),
            h(
              'td',
              { class: 'number' },
              String(entry.ageWorkingDays),
              entry.overdue ? h('div', {}, h('fluent-badge', { appearance: 'tint', color: 'danger' }, 'Overdue')) : null,
            ),
            h('td', {}, entry.reviewer?.name ?? h('span', { class: 'muted' }, 'Unassigned')),
            ...[entry.counts.accounts, entry.counts.eligible, entry.counts.review, entry.counts.approved, entry.counts.rejected, entry.counts.transferred].map(
              (count) => h('td', { class: 'number' }, String(count)),
            ),
            h('td', { class: 'number' }, entry.counts.changed === null ? h('span', { class: 'muted' }, 'not re-checked') : String(entry.counts.changed)),
          ),
        ),
      ),
    ),
  );
}

/** Previous and Next only where there is such a page: a disabled button is a stop in nobody's way. */
function pager(page: number, pages: number, go: (page: number) => void): HTMLElement {
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages of the queue' },
    page > 1 ? h('fluent-button', { id: 'previous-page', onclick: () => go(page - 1) }, 'Previous page') : null,
    h('span', {}, `Page ${page} of ${pages}`),
    page < pages ? h('fluent-button', { id: 'next-page', onclick: () => go(page + 1) }, 'Next page') : null,
  );
}

/**
 * Fluent's dropdown renders its combobox as a button in the light DOM (made again when the
 * component settles) that takes its name from its text and leaves aria-expanded unset until
 * first opened: name it by the field's label and the chosen value, and say it is closed, as
 * ARIA's combobox pattern asks, whenever a control appears.
 */
async function nameDropdownControls(root: HTMLElement): Promise<void> {
  await customElements.whenDefined('fluent-dropdown');
  const dropdowns = [...root.querySelectorAll<HTMLElement>('fluent-dropdown')];
  for (const dropdown of dropdowns) {
    const patch = () => {
      const control = dropdown.querySelector<HTMLElement>(':scope > [slot="control"]');
      if (!control) return;
      const labelledBy = `${dropdown.id}-label ${control.id}`;
      if (control.getAttribute('aria-labelledby') !== labelledBy) control.setAttribute('aria-labelledby', labelledBy);
      if (!control.hasAttribute('aria-expanded')) control.setAttribute('aria-expanded', 'false');
    };
    patch();
    new MutationObserver(patch).observe(dropdown, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['aria-expanded', 'aria-labelledby', 'id'],
    });
  }
  // The controls appear once the components have rendered: wait a few frames for them.
  for (let frame = 0; frame < 30 && dropdowns.some((dropdown) => !dropdown.querySelector(':scope > [slot="control"][aria-expanded]')); frame++) {
    await new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)));
  }
}

function dropdown(id: string, label: string, options: Array<[string, string]>, selected: string): { field: HTMLElement; control: HTMLElement } {
  const control = h(
    'fluent-dropdown',
    { id, slot: 'input' },
    h(
      'fluent-listbox',
      {},
      options.map(([value, text]) => h('fluent-option', { value, selected: value === selected }, text)),
    ),
  );
  const field = h('fluent-field', {}, h('label', { slot: 'label', for: id, id: `${id}-label` }, label), control);
  return { field, control };
}

function textInput(id: string, label: string, value: string, className?: string): HTMLElement {
  return h('fluent-text-input', { id, value, class: className, autocomplete: 'off' }, label);
}

function valueOf(element: HTMLElement): string {
  return String((element as unknown as { value?: string | null }).value ?? '');
}
