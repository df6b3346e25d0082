import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue, TurnContext } from 'botbuilder';
import { auditDetailWords } from '../../bot/audit-words';
import { CardActionDispatcher, REFRESH_VERB, SHOW_PAGE_VERB } from '../../bot/card-actions/dispatcher';
import { cardVerbOf, OPS_ACTION_NAMES, OPS_ACTIONS, opsActionOfVerb, type OpsActionName } from '../../bot/ops-actions';
import { AppError } from '../../core/errors';
import { silentLogger } from '../../core/log';
import type { StoredRequest } from '../../services/model';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';
import { startWorkspaceActions } from '../support/workspace-actions';

/**
 * The one table of actions (bot/ops-actions.ts), over every action in it: the ops card's verb
 * (as the card's button sends it) and the workspace's route each reach the same use case, leave the request the same, and write the
 * audit events the table names. Unknown verbs are not recognised; someone outside NAS
 * Operations learns nothing, not even whether the request exists.
 */
const TOM = { id: 'ops-tom', name: 'Tom Ashdown' };
const LENA = { id: 'ops-lena', name: 'Lena Marsh' };
const PRIYA = { id: 'priya', name: 'Priya Okafor' };
const SAM = { id: 'sam-outsider', name: 'Sam Outside' };

/** The request put where the action goes ahead, and what the client sends for it besides the request id. */
type Scenario = (requests: TransferRequests, request: StoredRequest) => Promise<Record<string, unknown>>;

const approveAll = async (requests: TransferRequests, request: StoredRequest) => void (await requests.approveEligible(request.id, LENA));

/** One per action in the table: an action added without one does not compile. */
const SCENARIOS: Record<OpsActionName, Scenario> = {
  claim: async () => ({}),
  takeOver: async (requests, request) => {
    await requests.claim(request.id, LENA);
    return { reviewerId: LENA.id };
  },
  approveEligible: async () => ({}),
  rejectUndecided: async () => ({ decisionReason: 'Not this time.' }),
  ask: async () => ({ question: 'Which site are they moving to?' }),
  markTransferred: async (requests, request) => {
    await approveAll(requests, request);
    return { transferNote: 'Moved by the service desk.' };
  },
  decide: async (_requests, request) => ({ accountId: request.accounts[0]!.id, decision: 'rejected', decisionReason: 'DSPT not met.' }),
  correct: async (requests, request) => {
    await approveAll(requests, request);
    return { accountId: request.accounts[0]!.id, decision: 'rejected', decisionReason: 'Wrong site.' };
  },
  markAccountTransferred: async (requests, request) => {
    await approveAll(requests, request);
    return { accountId: request.accounts[1]!.id };
  },
  overrideTransfer: async (requests, request) => {
    await approveAll(requests, request);
    await requests.markTransferred(request.id, LENA, 'all');
    return { accountId: request.accounts[0]!.id, decisionReason: 'Moved by hand; the directory lags.' };
  },
};

let submissions = 0;
/** A request of two eligible accounts; each its own, since an address in an open request is screened out of the next. */
async function submitted(requests: TransferRequests): Promise<StoredRequest> {
  submissions += 1;
  const { request } = await requests.submit({
    ...requestDetails(PRIYA),
    draftId: `draft-${submissions}`,
    accounts: [
      screenedAccount(1, `amara.mensah.${submissions}@nhsmail.example`, 'eligible'),
      screenedAccount(2, `ben.okoro.${submissions}@nhsmail.example`, 'eligible'),
    ],
  });
  return request;
}

/** The ops card's buttons as NAS Operations member Tom presses them (anyone else is outside NAS Operations). */
function opsCard(requests: TransferRequests) {
  const refusals: Array<{ verb: string; requestId: number; code: string }> = [];
  const dispatcher = new CardActionDispatcher({
    requests: Object.assign(Object.create(requests) as TransferRequests, {
      recordRefusal: async (_actor: unknown, verb: string, requestId: number, code: string) => void refusals.push({ verb, requestId, code }),
    }),
    access: {
      opsMember: async (userId) => {
        if (userId !== TOM.id) throw new AppError('NOT_OPS');
        return TOM;
      },
      viewer: async () => ({ kind: 'ops', actor: TOM }),
    },
    renderCard: (request, start, notice, noticeAccountId, view) => ({
      contentType: 'application/vnd.microsoft.card.adaptive',
      content: { status: request.status, start, notice, noticeAccountId, noticeVerb: view.noticeVerb },
    }),
    opsMembers: { record: async () => undefined, refreshUserIds: async () => [] },
    logger: silentLogger,
  });
  return {
    refusals,
    press: (verb: string, data: Record<string, unknown>, userId: string = TOM.id): Promise<AdaptiveCardInvokeResponse> =>
      dispatcher.dispatch(
        { activity: { from: { id: `29:${userId}`, aadObjectId: userId, name: 'someone' } } } as unknown as TurnContext,
        {
          action: { type: 'Action.Execute', verb, data },
          trigger: 'manual',
        } as unknown as AdaptiveCardInvokeValue,
      ),
  };
}

/** What an action left: the request's state by account position, and the audit events it wrote. */
async function aftermath(requests: TransferRequests, requestId: number, auditBefore: number) {
  const request = (await requests.get(requestId))!;
  const positionOf = (accountId: number | null) => request.accounts.find((account) => account.id === accountId)?.position ?? null;
  return {
    status: request.status,
    reviewer: request.claimedBy?.id ?? null,
    accounts: request.accounts.map((account) => ({
      decision: account.decision,
      reason: account.decisionReason,
      marked: account.transferredAt !== null,
      overridden: Boolean(account.transferOverride),
    })),
    questions: request.questions.map((question) => question.question),
    audit: (await requests.history(requestId))
      .slice(auditBefore)
      .map((event) => ({ action: event.action, by: event.actorId, account: positionOf(event.accountId) })),
  };
}

const CARD_TEMPLATE = path.join(__dirname, '..', '..', 'cards', 'ops-request.json');

describe('the table of actions', () => {
  it('is keyed by the lifecycle’s action names, each with an input, its audit events and a use case', () => {
    assert.deepEqual([...OPS_ACTION_NAMES].sort(), [
      'approveEligible',
      'ask',
      'claim',
      'correct',
      'decide',
      'markAccountTransferred',
      'markTransferred',
      'overrideTransfer',
      'rejectUndecided',
      'takeOver',
    ]);
    for (const name of OPS_ACTION_NAMES) assert.ok(OPS_ACTIONS[name].audit.length > 0, name);
  });

  it('holds every verb the ops card sends: the card’s buttons and the table agree', () => {
    const template = readFileSync(CARD_TEMPLATE, 'utf8');
    const sent = new Set([...template.matchAll(/"verb": "([A-Za-z]+)"/g)].map((match) => match[1]!));
    assert.deepEqual([...sent].sort(), [...OPS_ACTION_NAMES.map(cardVerbOf), REFRESH_VERB, SHOW_PAGE_VERB].sort());
  });

  it('maps the verbs of cards posted before it (claimRequest, rejectRequest, decideAccount, …) to the actions’ names, in one place', () => {
    assert.deepEqual(
      Object.fromEntries(
        ['claimRequest', 'takeOverRequest', 'rejectRequest', 'askRequester', 'decideAccount', 'correctDecision'].map((verb) => [verb, opsActionOfVerb(verb)]),
      ),
      {
        claimRequest: 'claim',
        takeOverRequest: 'takeOver',
        rejectRequest: 'rejectUndecided',
        askRequester: 'ask',
        decideAccount: 'decide',
        correctDecision: 'correct',
      },
    );
    for (const verb of ['deleteRequest', 'toString', '__proto__', 'constructor', '', REFRESH_VERB, SHOW_PAGE_VERB])
      assert.equal(opsActionOfVerb(verb), undefined, verb);
    // An action's name where no button sends it is not a verb: nothing the card shows reaches it.
    for (const name of OPS_ACTION_NAMES.filter((candidate) => cardVerbOf(candidate) !== candidate)) assert.equal(opsActionOfVerb(name), undefined, name);
  });

  it('words a refused action the same in the audit by its name or by the card verb recorded before', () => {
    for (const name of OPS_ACTION_NAMES) {
      const byName = auditDetailWords('card_action.refused', { verb: name, reason: 'NOT_OPS' });
      assert.equal(auditDetailWords('card_action.refused', { verb: cardVerbOf(name), reason: 'NOT_OPS' }), byName);
      assert.doesNotMatch(byName, new RegExp(`\\b${name}\\b`), 'in words, not the action’s name');
    }
  });
});

describeOnEachDatabase('every action in the table, from the card and from the workspace', (db) => {
  for (const name of OPS_ACTION_NAMES) {
    const verbs = [cardVerbOf(name)];
    it(`${name}: the card (${verbs.join(', ')}) and POST …/requests/:id/${name} reach the same use case and write ${OPS_ACTIONS[name].audit.join(' or ')}`, async () => {
      const requests = transferRequests(db());
      const card = opsCard(requests);
      const workspace = await startWorkspaceActions(db(), requests, TOM);
      try {
        const outcomes: Array<Awaited<ReturnType<typeof aftermath>>> = [];
        for (const verb of verbs) {
          const request = await submitted(requests);
          const input = await SCENARIOS[name](requests, request);
          const before = (await requests.history(request.id)).length;
          const response = await card.press(verb, { ...input, requestId: request.id, start: 0 });
          assert.equal(response.statusCode, 200, verb);
          assert.equal((response.value as { notice: string }).notice, '', `${verb} went ahead`);
          outcomes.push(await aftermath(requests, request.id, before));
        }
        const request = await submitted(requests);
        const input = await SCENARIOS[name](requests, request);
        const before = (await requests.history(request.id)).length;
        const answer = await workspace.post(name, request.id, input);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        outcomes.push(await aftermath(requests, request.id, before));

        const [first, ...others] = outcomes;
        for (const other of others) assert.deepEqual(other, first, 'the same use case, the same change');
        assert.ok(first!.audit.length > 0, 'audited');
        for (const event of first!.audit) {
          assert.ok(OPS_ACTIONS[name].audit.includes(event.action), `${event.action} is one the table names for ${name}`);
          assert.equal(event.by, TOM.id);
        }
      } finally {
        await workspace.close();
      }
    });
  }

  it('a missing reason on the card is told by the button pressed, in today’s words, and changes nothing', async () => {
    const requests = transferRequests(db());
    const card = opsCard(requests);
    const request = await submitted(requests);
    const accountId = request.accounts[0]!.id;
    const before = await aftermath(requests, request.id, 0);
    const pressed = await card.press('decideAccount', { requestId: request.id, accountId, decision: 'rejected', start: 0 });
    assert.equal(pressed.statusCode, 200);
    assert.deepEqual(pressed.value, {
      status: 'submitted',
      start: 0,
      notice: 'Give a reason to reject: the requester will see it.',
      noticeAccountId: accountId,
      noticeVerb: 'decideAccount',
    });
    assert.deepEqual(await aftermath(requests, request.id, 0), before);
  });

  it('an unknown verb, or bad data for a known one, is not recognised: CARD_DATA_INVALID, nothing looked up', async () => {
    const requests = transferRequests(db());
    const card = opsCard(requests);
    const request = await submitted(requests);
    for (const [verb, data] of [
      ['deleteRequest', { requestId: request.id }],
      ['toString', { requestId: request.id }],
      [undefined, { requestId: request.id }],
      ['decideAccount', { requestId: request.id, accountId: request.accounts[0]!.id, decision: 'maybe' }],
      ['claimRequest', { requestId: 'NTR-1' }],
      ['claimRequest', { requestId: request.id, start: -1 }],
    ] as const) {
      const response = await card.press(verb as string, data);
      assert.equal(response.statusCode, 400, String(verb));
      assert.equal((response.value as { code: string }).code, 'CARD_DATA_INVALID', String(verb));
    }
    assert.equal((await requests.get(request.id))!.claimedBy, null);
  });

  it('someone outside NAS Operations learns nothing, not even whether the request exists; the attempt is audited by the action’s name', async () => {
    const requests = transferRequests(db());
    const card = opsCard(requests);
    const request = await submitted(requests);
    const before = await aftermath(requests, request.id, 0);
    const existing = await card.press('rejectRequest', { requestId: request.id, decisionReason: 'No.' }, SAM.id);
    const missing = await card.press('rejectRequest', { requestId: request.id + 1000, decisionReason: 'No.' }, SAM.id);
    assert.equal(existing.statusCode, 403);
    assert.deepEqual(missing, existing, 'the same answer for a request that exists and one that does not');
    assert.equal((existing.value as { code: string }).code, 'NOT_OPS');
    assert.doesNotMatch(JSON.stringify(existing), /NTR-|Priya|amara/);
    assert.deepEqual(card.refusals, [
      { verb: 'rejectUndecided', requestId: request.id, code: 'NOT_OPS' },
      { verb: 'rejectUndecided', requestId: request.id + 1000, code: 'NOT_OPS' },
    ]);
    assert.deepEqual(await aftermath(requests, request.id, 0), before, 'nothing changed');

    const notFound = await card.press('claimRequest', { requestId: request.id + 1000 });
    assert.deepEqual([notFound.statusCode, (notFound.value as { code: string }).code], [404, 'REQUEST_NOT_FOUND'], 'NAS Operations are told it does not exist');
  });
});
