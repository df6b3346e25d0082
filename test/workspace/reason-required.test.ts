import assert from 'node:assert/strict';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import type { StoredRequest } from '../../services/model';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';
import { startWorkspaceActions } from '../support/workspace-actions';

/**
 * An action that needs a reason (or a question) and was given none is refused with a code that
 * says which (REASON_REQUIRED and the reason needed, QUESTION_REQUIRED), never the catch-all
 * INVALID_INPUT, and the person is told in today's words where to type it and who will read it.
 * The workspace API answers each action's refusals as the card does, 4xx with the code.
 */
const TOM = { id: 'ops-tom', name: 'Tom Ashdown' };
const PRIYA = { id: 'priya', name: 'Priya Okafor' };

async function submitted(requests: TransferRequests): Promise<StoredRequest> {
  const { request } = await requests.submit({
    ...requestDetails(PRIYA),
    draftId: `draft-${Math.random()}`,
    accounts: [screenedAccount(1, 'amara.mensah@nhsmail.example', 'eligible'), screenedAccount(2, 'ben.okoro@nhsmail.example', 'eligible')],
  });
  return request;
}

interface Case {
  name: string;
  /** The request as the action finds it. */
  setUp(requests: TransferRequests, request: StoredRequest): Promise<void>;
  /** The action through the use case, with no reason. */
  useCase(requests: TransferRequests, request: StoredRequest): Promise<unknown>;
  /** The same through the workspace API: its name and body. */
  route: string;
  body(request: StoredRequest): Record<string, unknown>;
  code: string;
  needed?: string;
  words: string;
}

const decidedAllApproved = async (requests: TransferRequests, request: StoredRequest) => void (await requests.approveEligible(request.id, TOM));

const CASES: Case[] = [
  {
    name: 'reject all undecided',
    setUp: async () => undefined,
    useCase: (requests, request) => requests.rejectUndecided(request.id, TOM, undefined),
    route: 'rejectUndecided',
    body: () => ({}),
    code: 'REASON_REQUIRED',
    needed: 'reject',
    words: 'Give a reason to reject: the requester will see it.',
  },
  {
    name: 'reject one account',
    setUp: async () => undefined,
    useCase: (requests, request) => requests.decideAccount(request.id, request.accounts[0]!.id, 'rejected', TOM, undefined),
    route: 'decide',
    body: (request) => ({ accountId: request.accounts[0]!.id, decision: 'rejected' }),
    code: 'REASON_REQUIRED',
    needed: 'reject',
    words: 'Give a reason to reject: the requester will see it.',
  },
  {
    name: 'change a decision',
    setUp: decidedAllApproved,
    useCase: (requests, request) => requests.correctDecision(request.id, request.accounts[0]!.id, 'rejected', TOM, undefined),
    route: 'correct',
    body: (request) => ({ accountId: request.accounts[0]!.id, decision: 'rejected', decisionReason: '  ' }),
    code: 'REASON_REQUIRED',
    needed: 'correct',
    words: 'Give a reason for changing the decision, in the box above the buttons: it is kept in the audit.',
  },
  {
    name: 'override the directory',
    setUp: async (requests, request) => {
      await decidedAllApproved(requests, request);
      await requests.markTransferred(request.id, TOM, 'all');
    },
    useCase: (requests, request) => requests.overrideTransfer(request.id, request.accounts[0]!.id, TOM, undefined),
    route: 'overrideTransfer',
    body: (request) => ({ accountId: request.accounts[0]!.id }),
    code: 'REASON_REQUIRED',
    needed: 'override',
    words: 'Give a reason for overriding the directory, in the box above the buttons: it is kept in the audit.',
  },
  {
    name: 'ask the requester',
    setUp: async () => undefined,
    useCase: (requests, request) => requests.ask(request.id, TOM, undefined),
    route: 'ask',
    body: () => ({}),
    code: 'QUESTION_REQUIRED',
    words: 'Type the question in the box above the button.',
  },
];

describeOnEachDatabase('an action without its reason: a typed refusal, in words', (db) => {
  for (const testCase of CASES) {
    it(`${testCase.name}: ${testCase.code}${testCase.needed ? ` (${testCase.needed})` : ''} from the use case and the workspace, told "${testCase.words}", nothing changed`, async () => {
      const requests = transferRequests(db());
      const workspace = await startWorkspaceActions(db(), requests, TOM);
      try {
        const request = await submitted(requests);
        await testCase.setUp(requests, request);
        const before = await requests.history(request.id);

        await assert.rejects(
          async () => testCase.useCase(requests, request),
          (error: { code?: string; needed?: string }) => {
            assert.equal(error.code, testCase.code);
            assert.equal(error.needed, testCase.needed);
            return true;
          },
        );
        const answer = await workspace.post(testCase.route, request.id, testCase.body(request));
        assert.equal(answer.status, 400, JSON.stringify(answer.body));
        assert.deepEqual(answer.body.error, { code: testCase.code, message: testCase.words, ...(testCase.needed ? { reason: testCase.needed } : {}) });
        assert.deepEqual(await requests.history(request.id), before, 'nothing changed, nothing audited');
      } finally {
        await workspace.close();
      }
    });
  }

  it('the workspace answers a lifecycle refusal of any action with its code and rule, never a server error', async () => {
    const requests = transferRequests(db());
    const workspace = await startWorkspaceActions(db(), requests, TOM);
    try {
      const request = await submitted(requests);
      const accountId = request.accounts[0]!.id;
      assert.equal((await workspace.post('decide', request.id, { accountId, decision: 'approved' })).status, 200);
      const again = await workspace.post('decide', request.id, { accountId, decision: 'approved' });
      assert.equal(again.status, 409);
      assert.equal(again.body.error?.code, 'ALREADY_DECIDED');
      assert.equal(again.body.error?.reason, 'account_already_decided');
      assert.match(again.body.error?.message ?? '', /^That has already been decided\. It was approved by Tom Ashdown at /);
      const elsewhere = await workspace.post('decide', request.id, { accountId: accountId + 100, decision: 'approved' });
      assert.deepEqual([elsewhere.status, elsewhere.body.error?.code], [404, 'ACCOUNT_NOT_IN_REQUEST']);
    } finally {
      await workspace.close();
    }
  });
});
