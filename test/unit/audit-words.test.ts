import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { auditDetailWords, auditEventWords, EVENT_WORDS } from '../../bot/audit-words';
import { describeAudit } from '../../bot/commands/audit-command';
import { joinClauses } from '../../core/text';
import type { StoredRequest } from '../../services/model';
import type { AuditEvent } from '../../services/store/audit';
import { requestDetails } from '../support/fixtures';

/** Every audit action the product records about a request: the names passed to appendAudit/appendAccountAudits in services/. */
function recordedActions(): string[] {
  const found = new Set<string>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const file = path.join(folder, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (file.endsWith('.ts'))
        for (const match of readFileSync(file, 'utf8').matchAll(/append(?:Account)?Audits?\(\s*tx,\s*[^,]+,\s*'([a-z_]+\.[a-z_]+)'/g)) found.add(match[1]!);
    }
  };
  walk(path.join(__dirname, '../../services'));
  return [...found].sort();
}

describe('the audit in words (chat "audit NTR-…" and the workspace trail share bot/audit-words.ts)', () => {
  it('names every action recorded about a request in words, never as an event name', () => {
    const actions = recordedActions();
    assert.ok(actions.includes('request.rechecked') && actions.includes('account.transfer_overridden'), actions.join(', '));
    const missing = actions.filter((action) => !(action in EVENT_WORDS));
    assert.deepEqual(missing, [], 'actions recorded with no words for them');
    for (const action of [...actions, 'request.something_new']) assert.doesNotMatch(auditEventWords(action), /[._]/, action);
  });

  const request = {
    id: 7,
    reference: 'NTR-100007',
    ...requestDetails({ id: 'p', name: 'Priya Okafor' }),
    accounts: [
      { id: 11, position: 1, email: 'amara.mensah@nhsmail.example' },
      { id: 12, position: 2, email: 'esme.flint@nhsmail.example' },
    ],
  } as unknown as StoredRequest;
  const event = (action: string, detail: Record<string, unknown>, accountId: number | null = null): AuditEvent => ({
    action,
    actorId: 'bot',
    actorName: 'NAS Transfer Bot',
    requestId: 7,
    accountId,
    occurredAt: new Date('2026-11-24T10:00:00Z'),
    detail,
  });
  const events = [
    event('request.rechecked', {
      trigger: 'daily',
      accounts: 2,
      changed: [
        {
          accountId: 12,
          position: 2,
          before: { verdict: 'eligible', rules: [] },
          after: { verdict: 'review', rules: ['SITE_NOT_DSPT_COMPLIANT'] },
          changes: 'DSPT status is now Approaching Standards',
        },
      ],
      snapshot: { policyVersion: '2026.11-2', accounts: [{ position: 2, rules: ['SITE_NOT_DSPT_COMPLIANT'] }] },
    }),
    event('request.leaver_alerted', { accountIds: [11] }),
    event('account.transfer_overridden', { reason: 'Moved by hand.' }, 11),
    event('account.transfer_confirmed', { state: 'marked', organisationOds: 'X26', seenAt: '2026-11-24T10:00:00Z' }, 12),
    event('card_action.refused', { verb: 'overrideTransfer', reason: 'NOT_OPS' }),
  ];

  it('the chat audit shows re-checks, overrides and confirmations in words, without rule codes or raw fields', () => {
    const text = describeAudit(request, events);
    assert.match(
      text,
      /screened the accounts again · 2 accounts screened in the daily check; 1 account changed; account 2: eligible to for review: DSPT status is now Approaching Standards/,
    );
    assert.match(text, /told the requester of accounts marked as leavers · 1 account \(account 1\)/);
    assert.match(
      text,
      /confirmed the transfer although the directory does not show it · account 1 \(amara\\?\.mensah@nhsmail\\?\.example\) · reason: Moved by hand\./,
    );
    assert.match(text, /saw the account moved to NAS in the directory · account 2 .* · administered by X26/);
    assert.match(text, /was refused an action · action Transferred anyway: override; not in NAS Operations/);
    assert.doesNotMatch(text, /request\.rechecked|account\.transfer_|SITE_NOT_DSPT_COMPLIANT|[{}]|overrideTransfer|NOT_OPS/);
  });

  it('the workspace trail gets the same words (what, detailText), never JSON', () => {
    for (const audited of events) {
      const words = auditDetailWords(audited.action, audited.detail, (id) => request.accounts.find((account) => account.id === id)?.position);
      assert.doesNotMatch(words, /[{}"]|SITE_NOT_DSPT_COMPLIANT|_/, audited.action);
    }
  });

  it('joins clauses without doubled punctuation ("flags.; no errors")', () => {
    assert.equal(joinClauses(['reads the leaver flags.', 'no errors']), 'reads the leaver flags; no errors');
    assert.equal(joinClauses(['wait…', 'done.']), 'wait…; done.');
    assert.equal(joinClauses(['one', '', 'two']), 'one; two');
  });
});
