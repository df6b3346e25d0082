import type { Account, RequestAnswer } from './api-types';
import { announce, formatTime, h, plural } from './dom';
import { lastQueue } from './navigation';
import { messageBar, statusBadge } from './parts';
import { ApiError, type Session } from './session';

/**
 * One request in full: what the requester answered and confirmed, every account with its
 * verdict, reasons, evidence, decision and transfer, the questions asked, the audit trail, a
 * link to its card in the ops channel, and Assign to me. Decisions stay on the card.
 */
const ATTESTATION_LABEL: Record<string, string> = {
  usersInformed: 'Affected users told of the process and timescales',
  residualDataRemoved: 'Residual data and PID removed',
  notMarkedAsLeavers: 'Accounts not marked as leavers',
  resolutionForIneligible: 'A resolution for ineligible users',
};

const EVIDENCE_LABEL: Record<string, string> = {
  directoryFound: 'In directory',
  displayName: 'Display name',
  jobTitle: 'Job title',
  department: 'Department',
  organisationOds: 'Administering organisation',
  siteOds: 'Site',
  siteName: 'Site name',
  siteActive: 'Site active in ODS',
  sectorName: 'Sector',
  dsptStatus: 'DSPT status',
  dsptPublished: 'DSPT published',
  ukMobileOnRecord: 'UK mobile on record',
  priorRequestReference: 'Other request',
  siteAllowance: 'Site allowance',
  siteNasAccounts: 'Site NAS accounts',
};

const NOTIFICATION_LABEL: Record<string, string> = {
  not_due: 'Not yet due',
  pending: 'On its way',
  delivered: 'Delivered',
  undeliverable: 'Could not be delivered',
};

export async function renderRequest(main: HTMLElement, session: Session, id: string, notice?: HTMLElement): Promise<void> {
  const back = h('a', { href: lastQueue(), 'data-internal': true, id: 'back-to-queue' }, 'Back to the queue');
  main.replaceChildren(h('p', {}, back), h('p', { class: 'loading' }, 'Loading the request…'));
  let answer: RequestAnswer;
  try {
    answer = await session.json<RequestAnswer>(`requests/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      main.replaceChildren(h('p', {}, back), h('h1', { tabindex: -1 }, 'Request not found'), messageBar('warning', error.message));
      return;
    }
    throw error;
  }
  const { request } = answer;
  const heading = h('h1', { tabindex: -1 }, `${request.reference} `, statusBadge(request.status, request.statusLabel));

  const claimResult = h('div', { id: 'claim-result' });
  if (notice) claimResult.append(notice);
  const actions = h('div', { class: 'actions' });
  if (answer.canClaim) {
    const assign = h('fluent-button', { appearance: 'primary', id: 'assign-to-me' }, 'Assign to me');
    assign.addEventListener('click', () => void claim(main, session, String(request.id), request.reference, assign, claimResult));
    actions.append(assign);
  }
  if (answer.cardLink) {
    const link = answer.cardLink;
    actions.append(
      h(
        'a',
        { href: link, target: '_blank', rel: 'noopener', id: 'card-link', onclick: (event: Event) => (event.preventDefault(), session.openLink(link)) },
        'Open its card in the ops channel',
      ),
    );
  } else actions.append(h('span', { class: 'muted' }, 'Its card has not been posted to the ops channel yet.'));

  main.replaceChildren(
    h('p', {}, back),
    heading,
    claimResult,
    actions,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'summary-heading' },
      h('h2', { id: 'summary-heading' }, 'Summary'),
      facts([
        ['Organisation', `${request.organisationName} (${request.organisationOds})`],
        ['Requested by', request.requester.name],
        ['Submitted', formatTime(request.createdAt)],
        ['Age', `${plural(answer.ageWorkingDays, 'working day')}${answer.overdue ? ' (overdue)' : ''}`],
        [
          'Reviewer',
          request.claimedBy
            ? `${request.claimedBy.name}${answer.reviewingIsMe ? ' (you)' : ''}, since ${formatTime(request.claimedAt)}`
            : deciders(request.accounts)
              ? 'Nobody pressed Assign to me'
              : 'Unassigned',
        ],
        // Who decided, whether or not they assigned it to themselves first.
        ...(deciders(request.accounts) ? [['Decided by', deciders(request.accounts)] as [string, string]] : []),
        ['Decided', formatTime(request.decidedAt) || 'Not yet'],
        ...(request.completedAt ? [['Completed', formatTime(request.completedAt)] as [string, string]] : []),
        ...(request.withdrawnAt ? [['Withdrawn', formatTime(request.withdrawnAt)] as [string, string]] : []),
        ['Requester told the outcome', NOTIFICATION_LABEL[request.outcomeNotification] ?? request.outcomeNotification],
        ['Policy version', request.policyVersion],
      ]),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'answers-heading' },
      h('h2', { id: 'answers-heading' }, 'Answers and confirmations'),
      h('h3', {}, 'Reason for the transfer'),
      h('p', { class: 'reason-text' }, request.reason),
      h('h3', {}, 'Confirmations'),
      h(
        'ul',
        {},
        Object.entries(ATTESTATION_LABEL).map(([key, label]) => h('li', {}, `${request.attestations[key] ? 'Confirmed' : 'Not confirmed'}: ${label}`)),
      ),
    ),
    accountsSection(request.accounts),
    questionsSection(request.questions),
    auditSection(answer, request.accounts),
  );
}

async function claim(main: HTMLElement, session: Session, id: string, reference: string, button: HTMLElement, result: HTMLElement): Promise<void> {
  button.setAttribute('disabled', '');
  try {
    await session.json(`requests/${encodeURIComponent(id)}/claim`, { method: 'POST' });
    const notice = messageBar('success', `You are now reviewing ${reference}. Everyone sees it on the card.`, 'claim-message');
    await renderRequest(main, session, id, notice);
    announce(`You are now reviewing ${reference}.`);
    (main.querySelector('h1') as HTMLElement | null)?.focus();
  } catch (error) {
    button.removeAttribute('disabled');
    result.replaceChildren(messageBar(error instanceof ApiError && error.status === 409 ? 'warning' : 'error', (error as Error).message, 'claim-message'));
  }
}

/** Who decided the accounts, in the order they first decided: "Tom Ashdown", "Tom Ashdown and Jo Bloggs"; empty when nobody has. */
function deciders(accounts: Account[]): string {
  const names = [...new Set(accounts.flatMap((account) => (account.decision && account.decidedBy ? [account.decidedBy.name] : [])))];
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

function facts(rows: Array<[string, string]>): HTMLElement {
  return h(
    'dl',
    { class: 'facts' },
    rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', { class: 'wrap' }, value)]),
  );
}

function accountsSection(accounts: Account[]): HTMLElement {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'accounts-heading' },
    h('h2', { id: 'accounts-heading' }, `Accounts (${accounts.length})`),
    h(
      'div',
      { class: 'table-scroll', role: 'region', 'aria-labelledby': 'accounts-heading', tabindex: 0 },
      h(
        'table',
        { id: 'accounts-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['#', 'Account', 'Verdict', 'Reasons', 'Evidence', 'Decision', 'Transfer'].map((title) => h('th', { scope: 'col' }, title)),
          ),
        ),
        h(
          'tbody',
          {},
          accounts.map((account) =>
            h(
              'tr',
              { 'data-email': account.email },
              h('td', {}, String(account.position)),
              h(
                'th',
                { scope: 'row', class: 'wrap' },
                account.email,
                account.siteOds ? h('div', { class: 'muted' }, `Site ${account.siteOds}`) : null,
                account.specialism ? h('div', { class: 'muted' }, account.specialism) : null,
              ),
              h(
                'td',
                {},
                account.verdict,
                account.recheck?.changes
                  ? h(
                      'div',
                      { class: 'reason-text', 'data-changed': true },
                      `Changed since submission (seen ${formatTime(account.recheck.changedAt ?? account.recheck.at)}): ${account.recheck.changes}`,
                    )
                  : account.recheck
                    ? h('div', { class: 'muted' }, `Unchanged when re-checked ${formatTime(account.recheck.at)}`)
                    : null,
              ),
              h(
                'td',
                { class: 'wrap' },
                account.reasons.length === 0
                  ? h('span', { class: 'muted' }, 'None')
                  : h(
                      'ul',
                      {},
                      account.reasons.map((reason) => h('li', {}, `${reason.rule}: ${reason.message}`)),
                    ),
              ),
              h('td', {}, evidence(account)),
              h(
                'td',
                { class: 'wrap' },
                account.decision
                  ? `${account.decision === 'approved' ? 'Approved' : 'Rejected'} by ${account.decidedBy?.name ?? 'unknown'}, ${formatTime(account.decidedAt)}`
                  : account.verdict === 'ineligible'
                    ? 'Screened out'
                    : 'Undecided',
                account.decisionReason ? h('div', { class: 'reason-text' }, `Reason: ${account.decisionReason}`) : null,
              ),
              h(
                'td',
                { class: 'wrap' },
                transferText(account),
                account.transferNote ? h('div', { class: 'reason-text' }, `Note: ${account.transferNote}`) : null,
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

/** Where an approved account's move stands: marked by NAS Operations, confirmed in the directory, or vouched for. */
function transferText(account: Account): string {
  const marked = account.transferredAt ? `Marked transferred by ${account.transferredBy?.name ?? 'unknown'}, ${formatTime(account.transferredAt)}` : '';
  if (account.transferConfirmedAt) return `${marked}${marked ? '; ' : ''}confirmed in the directory ${formatTime(account.transferConfirmedAt)}`;
  if (account.transferOverride)
    return `${marked}${marked ? '; ' : ''}confirmed by ${account.transferOverride.by.name}, ${formatTime(account.transferOverride.at)}: ${account.transferOverride.reason}`;
  if (marked) return `${marked}; not yet seen in the directory`;
  return account.decision === 'approved' ? 'Not yet transferred' : '';
}

function evidence(account: Account): HTMLElement {
  const rows = Object.entries(EVIDENCE_LABEL)
    .filter(([key]) => account.evidence?.[key] !== undefined && account.evidence?.[key] !== null)
    .map(([key, label]): [string, string] => {
      const value = account.evidence[key];
      return [label, typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value)];
    });
  if (rows.length === 0) return h('span', { class: 'muted' }, 'None recorded');
  return h('details', {}, h('summary', {}, `Evidence for ${account.email}`), facts(rows));
}

function questionsSection(questions: RequestAnswer['request']['questions']): HTMLElement {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'questions-heading' },
    h('h2', { id: 'questions-heading' }, 'Questions and answers'),
    questions.length === 0
      ? h('p', { class: 'muted' }, 'NAS Operations have not asked the requester anything.')
      : h(
          'ol',
          {},
          questions.map((question) =>
            h(
              'li',
              {},
              h('p', { class: 'reason-text' }, `${question.askedBy.name} asked, ${formatTime(question.askedAt)}: ${question.question}`),
              h('p', { class: 'reason-text' }, question.answer ? `Answered ${formatTime(question.answeredAt)}: ${question.answer}` : 'Not answered yet.'),
            ),
          ),
        ),
  );
}

function auditSection(answer: RequestAnswer, accounts: Account[]): HTMLElement {
  const position = new Map(accounts.map((account) => [account.id, account.position]));
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'audit-heading' },
    h('h2', { id: 'audit-heading' }, 'Audit trail'),
    h(
      'div',
      { class: 'table-scroll', role: 'region', 'aria-labelledby': 'audit-heading', tabindex: 0 },
      h(
        'table',
        { id: 'audit-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['When', 'What', 'Who', 'Account #', 'Detail'].map((title) => h('th', { scope: 'col' }, title)),
          ),
        ),
        h(
          'tbody',
          {},
          answer.audit.map((event) =>
            h(
              'tr',
              {},
              h('td', {}, formatTime(event.occurredAt)),
              h('td', {}, event.what),
              h('td', {}, event.actorName),
              h('td', {}, event.accountId === null ? '' : String(position.get(event.accountId) ?? '')),
              h('td', { class: 'wrap' }, event.detailText),
            ),
          ),
        ),
      ),
    ),
  );
}
