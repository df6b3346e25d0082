import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ScreenedAccount } from '../../services/eligibility/types';
import { loadConfig } from '../../config';
import { AuditLog } from '../../services/store/audit';
import { RequestRepository } from '../../services/store/requests';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import { SqlStorage } from '../../services/store/bot-state';
import { auditSkeleton, purgeClosedRequests, purgeStaleWork, REDACTED } from '../../services/store/retention';
import { ScreeningJobs } from '../../services/store/screening-jobs';
import { describeOnEachDatabase } from '../support/databases';
import { transferRequests, requestDetails, screenedAccount } from '../support/fixtures';

const PRIYA = { id: 'priya-oid', name: 'Priya Okafor' };
const TOM = { id: 'ops-tom', name: 'Tom Ashdown' };
const DAY = 86_400_000;

const accounts = (prefix: string): ScreenedAccount[] => [
  {
    ...screenedAccount(1, `${prefix}.eligible@nhsmail.example`, 'eligible'),
    specialism: 'pharmacy',
    evidence: { directoryFound: true, displayName: `${prefix} Person`, jobTitle: 'Pharmacist', siteOds: 'ZZ9103' },
  },
  screenedAccount(2, `${prefix}.review@nhsmail.example`, 'review'),
  {
    ...screenedAccount(3, `${prefix}.leaver@nhsmail.example`, 'ineligible'),
    reasons: [
      {
        rule: 'MARKED_AS_LEAVER',
        verdict: 'ineligible',
        message: `${prefix}.leaver@nhsmail.example is marked as a leaver.`,
        remedy: 'Unmark as leaver, then resubmit.',
      },
    ],
  },
];

describeOnEachDatabase('retention purge', (db) => {
  let requests: TransferRequests;

  beforeEach(() => {
    requests = transferRequests(db());
  });

  async function decidedRequest(prefix: string) {
    const { request } = await requests.submit({
      ...requestDetails(PRIYA),
      reason: `${prefix} reason: Dr ${prefix} retires`,
      draftId: randomUUID(),
      accounts: accounts(prefix),
    });
    const [eligible, review] = request.accounts;
    await requests.approveEligible(request.id, TOM);
    await requests.decideAccount(request.id, review!.id, 'rejected', TOM, `${prefix} is a locum, not at this site`);
    assert.equal((await requests.get(request.id))?.status, 'decided');
    return { request, eligible: eligible!, review: review! };
  }

  /** Every stored value of one request, as text, to search for anything personal left behind. */
  async function everythingAbout(requestId: number): Promise<string> {
    const parts = await Promise.all([
      db().query('SELECT * FROM transfer_requests WHERE id = $1', [requestId]),
      db().query('SELECT * FROM request_accounts WHERE request_id = $1', [requestId]),
      db().query('SELECT * FROM audit_events WHERE request_id = $1', [requestId]),
      db().query('SELECT * FROM outbox WHERE request_id = $1', [requestId]),
      db().query('SELECT * FROM request_questions WHERE request_id = $1', [requestId]),
    ]);
    return JSON.stringify(parts);
  }

  it('removes the personal data of a request closed longer than the period and keeps the audit skeleton', async () => {
    // The old request goes through the whole lifecycle: claimed, asked and answered, decided, transferred, completed.
    const { request: oldRequest } = await requests.submit({
      ...requestDetails(PRIYA),
      reason: 'alder reason: Dr alder retires',
      draftId: randomUUID(),
      accounts: accounts('alder'),
    });
    await requests.claim(oldRequest.id, TOM);
    await requests.ask(oldRequest.id, TOM, 'Is alder.review still at the site?');
    await requests.answer(oldRequest.id, PRIYA, 'No, alder left in May');
    await requests.approveEligible(oldRequest.id, TOM);
    await requests.decideAccount(oldRequest.id, oldRequest.accounts[1]!.id, 'rejected', TOM, 'alder is a locum, not at this site');
    assert.deepEqual(await requests.markTransferred(oldRequest.id, TOM, 'all', 'moved alder on Tuesday'), { transferred: 1, completed: false });
    // The demo address is not in any directory, so NAS Operations override the directory check, with a reason: that completes it.
    assert.deepEqual(await requests.overrideTransfer(oldRequest.id, oldRequest.accounts[0]!.id, TOM, 'alder moved by hand in the Portal'), { completed: true });
    const old = { request: oldRequest, eligible: oldRequest.accounts[0]!, review: oldRequest.accounts[1]! };
    const recent = await decidedRequest('birch');
    const { request: open } = await requests.submit({ ...requestDetails(PRIYA), draftId: randomUUID(), accounts: accounts('cedar') });
    await RequestRepository.recordOpsMessage(db(), old.request.id, '19:ops', 'activity-1');
    // "Now" is 31 days ahead; the recent request was decided (as far as the store knows) 10 days after today.
    await db().query(`UPDATE transfer_requests SET decided_at = now() + interval '10 days' WHERE id = $1`, [recent.request.id]);
    const auditBefore = await new AuditLog(db()).forRequest(old.request.id);
    const recentBefore = await everythingAbout(recent.request.id);
    const openBefore = await everythingAbout(open.id);

    assert.equal(await purgeClosedRequests(db(), 30, new Date(Date.now() + 31 * DAY)), 1);

    const purged = await requests.get(old.request.id);
    assert.ok(purged);
    assert.equal(purged.reference, old.request.reference);
    assert.equal(purged.requester.id, PRIYA.id, 'the requester id stays: it is the skeleton');
    assert.equal(purged.requester.name, REDACTED);
    assert.equal(purged.reason, REDACTED);
    assert.equal(purged.organisationOds, 'ZZ9001');
    assert.deepEqual(
      purged.accounts.map((account) => [
        account.email,
        account.specialism,
        account.evidence,
        account.verdict,
        account.reasons.map((reason) => [reason.rule, reason.message]),
        account.decision,
        account.decisionReason,
        account.decidedBy?.id ?? null,
      ]),
      [
        [`redacted-${old.eligible.id}`, null, { directoryFound: true }, 'eligible', [], 'approved', null, TOM.id],
        [`redacted-${old.review.id}`, null, { directoryFound: true }, 'review', [['SITE_NOT_DSPT_COMPLIANT', '']], 'rejected', REDACTED, TOM.id],
        [`redacted-${old.request.accounts[2]!.id}`, null, { directoryFound: true }, 'ineligible', [['MARKED_AS_LEAVER', '']], null, null, null],
      ],
    );
    assert.equal(purged.accounts[1]?.reasons[0]?.remedy, 'Complete the DSPT for the site.', 'policy text is not personal');

    const auditAfter = await new AuditLog(db()).forRequest(old.request.id);
    const skeleton = (events: typeof auditAfter) =>
      events.map((event) => [event.action, event.actorId, event.requestId, event.accountId, event.occurredAt.toISOString()]);
    assert.deepEqual(skeleton(auditAfter.slice(0, -1)), skeleton(auditBefore), 'the same events, actors, ids and times');
    assert.deepEqual(
      auditAfter.map((event) => [event.action, event.actorName, event.detail]),
      [
        [
          'request.submitted',
          '',
          { reference: old.request.reference, accountCount: 3, policyVersion: '2026.11-1', screened: { eligible: 1, review: 1, ineligible: 1 } },
        ],
        ['request.claimed', '', { before: { status: 'submitted', reviewer: null }, after: { status: 'in_review' } }],
        ['request.asked', '', { questionId: auditBefore.find((event) => event.action === 'request.asked')?.detail.questionId }],
        ['request.answered', '', { questionId: auditBefore.find((event) => event.action === 'request.answered')?.detail.questionId }],
        ['request.approved_eligible', '', {}],
        ['account.rejected', '', {}],
        ['account.transferred', '', {}],
        ['account.transfer_overridden', '', {}],
        ['request.completed', '', { before: { status: 'decided' }, after: { status: 'completed' } }],
        ['request.purged', 'Retention policy', { olderThanDays: 30 }],
      ],
    );
    assert.equal(purged.status, 'completed');
    assert.deepEqual(
      purged.questions.map((question) => [question.question, question.answer, question.askedBy.id]),
      [[REDACTED, REDACTED, TOM.id]],
    );
    assert.equal(purged.claimedBy?.id, TOM.id);

    const left = await everythingAbout(old.request.id);
    for (const personal of ['alder', 'Priya', 'Tom Ashdown', 'Pharmacist', 'pharmacy', 'locum', 'marked as a leaver', 'Tuesday', 'May', 'Portal'])
      assert.ok(!left.includes(personal), `"${personal}" must be gone`);
    // The ops card still showing the addresses is re-rendered from the purged store.
    assert.deepEqual(await db().query(`SELECT status FROM outbox WHERE dedupe_key = $1`, [`ops.update:${old.request.id}`]), [{ status: 'pending' }]);

    assert.equal(await everythingAbout(recent.request.id), recentBefore, 'closed less than 30 days before: untouched');
    assert.equal(await everythingAbout(open.id), openBefore, 'not closed: untouched');
  });

  it('is idempotent, and a later event moves the closing time on', async () => {
    const { request } = await decidedRequest('alder');
    const later = new Date(Date.now() + 40 * DAY);
    await new AuditLog(db()).record(TOM, 'request.exported', request.id, {});
    assert.equal(await purgeClosedRequests(db(), 30, new Date(Date.now() + 29 * DAY)), 0, 'not yet 30 days');
    assert.equal(await purgeClosedRequests(db(), 30, later), 1);
    const once = await everythingAbout(request.id);
    assert.equal(await purgeClosedRequests(db(), 30, later), 0);
    assert.equal(await purgeClosedRequests(db(), 1, new Date(Date.now() + 400 * DAY)), 0);
    assert.equal(await everythingAbout(request.id), once, 'a second run changes nothing');
  });

  it('works through more requests than one batch', async () => {
    for (let index = 0; index < 52; index++) {
      const { request } = await requests.submit({
        ...requestDetails(PRIYA),
        draftId: randomUUID(),
        accounts: [screenedAccount(1, `p${index}@nhsmail.example`, 'eligible')],
      });
      await requests.approveEligible(request.id, TOM);
    }
    assert.equal(await purgeClosedRequests(db(), 7, new Date(Date.now() + 8 * DAY)), 52);
    assert.deepEqual(await db().query(`SELECT count(*)::int AS n FROM request_accounts WHERE email LIKE '%@%'`), [{ n: 0 }]);
  });

  it('refuses a period that is not a whole number of days', async () => {
    for (const days of [0, -1, 1.5, Number.NaN]) await assert.rejects(purgeClosedRequests(db(), days), RangeError);
    for (const days of [0, -1, 1.5, Number.NaN]) await assert.rejects(purgeStaleWork(db(), days), RangeError);
  });

  it('deletes screening jobs and dialog state nobody has touched for the period, and keeps what is still in use', async () => {
    const jobs = new ScreeningJobs(db());
    const entries = [{ position: 1, email: 'rowan.pike@nhsmail.example', siteOds: 'ZZ9101' }];
    await jobs.create({ id: 'abandoned:1', ownerId: PRIYA.id, organisationOds: 'ZZ9001', organisationName: 'Northmoor', entries });
    await jobs.create({ id: 'in-use:1', ownerId: PRIYA.id, organisationOds: 'ZZ9001', organisationName: 'Northmoor', entries });
    const storage = new SqlStorage(db());
    await storage.write({ 'msteams/conversations/a:old/': { listText: 'rowan.pike@nhsmail.example' }, 'msteams/conversations/a:new/': { step: 2 } });
    // What screening found about the abandoned list, in its result chunks (migration 022), goes with it.
    await db().query(
      `INSERT INTO screening_job_results (job_id, run, attempt, chunk, accounts) VALUES ('abandoned:1', 1, 1, 0, '[{"email": "rowan.pike@nhsmail.example"}]')`,
    );
    await db().query(`UPDATE screening_jobs SET updated_at = now() - interval '31 days' WHERE id = 'abandoned:1'`);
    await db().query(`UPDATE bot_state SET updated_at = now() - interval '31 days' WHERE key = 'msteams/conversations/a:old/'`);

    assert.deepEqual(await purgeStaleWork(db(), 30), { screeningJobs: 1, dialogStates: 1 });
    assert.equal(await jobs.get('abandoned:1'), null);
    assert.deepEqual(await db().query(`SELECT job_id FROM screening_job_results`), [], 'its result chunks too');
    assert.ok(await jobs.get('in-use:1'), 'touched within the period: kept');
    assert.deepEqual(Object.keys(await storage.read(['msteams/conversations/a:old/', 'msteams/conversations/a:new/'])), ['msteams/conversations/a:new/']);
    assert.deepEqual(
      await db().query(`SELECT count(*)::int AS n FROM screening_jobs WHERE entries::text LIKE '%rowan.pike%'`),
      [{ n: 1 }],
      'only the job still in use holds the address',
    );
    assert.deepEqual(await purgeStaleWork(db(), 30), { screeningJobs: 0, dialogStates: 0 }, 'nothing more to delete');
  });
});

describe('auditSkeleton', () => {
  it('keeps numbers, booleans, references, versions and codes; drops free text at any depth', () => {
    assert.deepEqual(
      auditSkeleton({
        reference: 'NTR-100001',
        accountCount: 3,
        reason: 'Dr Smith is a locum',
        note: 'call 07700 900123',
        email: 'a@nhsmail.example',
        verb: 'decideAccount',
        refusal: { reason: 'NOT_OPS' },
        before: { decision: 'approved', reason: 'looked fine' },
        after: { decision: 'rejected', reason: 'not at this site' },
        rules: ['NO_UK_MOBILE', 'MARKED_AS_LEAVER'],
        names: ['Priya Okafor'],
        transferred: true,
      }),
      {
        reference: 'NTR-100001',
        accountCount: 3,
        verb: 'decideAccount',
        refusal: { reason: 'NOT_OPS' },
        before: { decision: 'approved' },
        after: { decision: 'rejected' },
        rules: ['NO_UK_MOBILE', 'MARKED_AS_LEAVER'],
        names: [],
        transferred: true,
      },
    );
  });
});

describe('RETENTION_DAYS', () => {
  it('is unset by default (keep everything), a whole number of days of at least 1 otherwise', () => {
    assert.equal(loadConfig({}).retentionDays, undefined);
    assert.equal(loadConfig({ RETENTION_DAYS: '' }).retentionDays, undefined);
    assert.equal(loadConfig({ RETENTION_DAYS: '365' }).retentionDays, 365);
    for (const bad of ['0', '-3', '1.5', 'forever']) assert.throws(() => loadConfig({ RETENTION_DAYS: bad }), /RETENTION_DAYS/);
  });
});
