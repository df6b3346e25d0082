import assert from 'node:assert/strict';
import sinon from 'sinon';
import type { Activity, TestAdapter } from 'botbuilder';
import { cardBody, cardText, opsChannel, PEOPLE, startHarness, type Harness } from '../support/bot-harness';

const REASON = 'Our sponsorship of these community pharmacies ends on 31 March.';
const ALL_TICKED = { usersInformed: 'true', residualDataRemoved: 'true', notMarkedAsLeavers: 'true', resolutionForIneligible: 'true' };
const LIST = ['amara.mensah@nhsmail.example, ZZ9101', 'esme.flint@nhsmail.example', 'kezia.morrow@nhsmail.example', 'nobody.here@nhsmail.example'].join('\n');

const submit = (value: Record<string, string>): Partial<Activity> => ({ type: 'message', value });
const says = (fragment: string | RegExp) => (activity: Partial<Activity>) => {
  const text = activity.text ?? '';
  if (typeof fragment === 'string')
    assert.ok(text.includes(fragment), `expected a reply containing "${fragment}", got "${text || cardText(activity).slice(0, 200)}"`);
  else assert.match(text, fragment);
};
const showsCard =
  (...fragments: string[]) =>
  (activity: Partial<Activity>) => {
    const text = cardText(activity);
    for (const fragment of fragments) assert.ok(text.includes(fragment), `expected a card containing "${fragment}", got ${text.slice(0, 3000)}`);
  };
const isTyping = (activity: Partial<Activity>) => assert.equal(activity.type, 'typing');

/** Walks the requester to the accounts card. */
function toAccounts(adapter: TestAdapter) {
  return adapter
    .send('new transfer')
    .assertReply(says('**Northmoor Community Care Partnership** (ZZ9001)'))
    .send('yes')
    .assertReply(says('Why are these accounts being transferred'))
    .send(REASON)
    .assertReply(showsCard('Accounts to transfer'));
}

/** Accounts in no other request: one eligible, one a leaver. */
const FRESH_LIST = ['wren.hadley@nhsmail.example', 'kezia.morrow@nhsmail.example'].join('\n');

/** Walks the requester to the screening of a list (the results come when the harness settles). */
function toScreening(adapter: TestAdapter, list = LIST) {
  const count = list.split('\n').length;
  return toAccounts(adapter)
    .send(submit({ step: 'accounts', accounts: list }))
    .assertReply(isTyping)
    .assertReply(says(`Checking ${count} accounts`));
}

/** The toggles of an attestations card, by id, with the value each is shown with. */
function toggles(activity: Partial<Activity>): Record<string, string> {
  const body = cardBody(activity).body as Array<{ type: string; id?: string; value?: string }>;
  return Object.fromEntries(body.filter((element) => element.type === 'Input.Toggle').map((element) => [element.id, element.value]));
}

describe('requester conversation (TestAdapter, turn by turn)', () => {
  let harness: Harness;
  const writeLog = sinon.spy((_line: string) => undefined);
  before(async () => {
    harness = await startHarness({ writeLog });
  });

  /** Runs the screening job and delivers what it owes; returns the last message the requester got. */
  async function screened(): Promise<Partial<Activity>> {
    await harness.settle();
    const message = harness.messenger.toUser('priya').at(-1);
    assert.ok(message, 'the requester was sent the results');
    return message.activity;
  }
  after(() => harness.close());

  interface CommandCase {
    user: keyof typeof PEOPLE;
    says: string;
    reply: string;
  }
  const COMMANDS: CommandCase[] = [
    { user: 'priya', says: 'help', reply: '**new transfer**' },
    { user: 'priya', says: 'cancel', reply: 'There is nothing to cancel.' },
    { user: 'priya', says: 'what now?', reply: 'I did not recognise that.' },
    { user: 'priya', says: 'status NTR-999999', reply: 'No transfer request has that reference.' },
    { user: 'priya', says: 'status 12345', reply: 'A reference looks like NTR-100001.' },
    { user: 'sam', says: 'new transfer', reply: 'Only Primary or Local Administrators can request a NAS transfer.' },
    { user: 'sam', says: 'status', reply: 'You have no transfer requests yet.' },
  ];
  for (const command of COMMANDS) {
    it(`${command.user}: "${command.says}" → ${command.reply}`, async () => {
      await harness.adapterFor(command.user).send(command.says).assertReply(says(command.reply)).startTest();
    });
  }

  it('welcomes a user when the bot is added to their personal chat', async () => {
    const adapter = harness.adapterFor('priya');
    await adapter
      .send({ type: 'conversationUpdate', membersAdded: [PEOPLE.priya, adapter.conversation.bot], recipient: adapter.conversation.bot })
      .assertReply(showsCard('NAS Transfer', 'Start a new transfer', 'Hello Priya.'))
      .startTest();
  });

  it('answers the welcome card’s buttons (card data naming the command) as it answers the typed command', async () => {
    await harness.adapterFor('sam').send({ type: 'message', text: 'status' }).assertReply(says('You have no transfer requests yet.')).startTest();
    await harness
      .adapterFor('sam')
      .send({ type: 'message', value: { command: 'status' } })
      .assertReply(says('You have no transfer requests yet.'))
      .startTest();
    await harness
      .adapterFor('priya')
      .send({ type: 'message', value: { command: 'new transfer' } })
      .assertReply(says('Are the accounts transferring from this organisation?'))
      .send('cancel')
      .assertReply(says('Cancelled.'))
      .startTest();
  });

  it('counts its replies in the shared send budget, by chat and tenant, without holding them', async () => {
    const adapter = harness.adapterFor('sam');
    const chat = adapter.conversation.conversation;
    await adapter.send('status').assertReply(says('You have no transfer requests yet.')).startTest();
    const counted = async () =>
      (
        await harness.db.query<{ scope: string; count: number }>(
          `SELECT scope, count(*)::int AS count FROM send_budget WHERE scope IN ($1, $2) GROUP BY scope ORDER BY scope`,
          [`conversation:${chat.id}`, `tenant:${chat.tenantId}`],
        )
      ).map((row) => row.scope);
    // Written just after the reply went, without the turn waiting for it.
    for (let tries = 0; tries < 50 && (await counted()).length < 2; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await counted(), [`conversation:${chat.id}`, `tenant:${chat.tenantId}`]);
  });

  it('refuses an activity from another tenant, and says so', async () => {
    const adapter = harness.adapterFor('priya');
    adapter.conversation.conversation = { ...adapter.conversation.conversation, tenantId: 'some-other-tenant' };
    await adapter.send('new transfer').assertReply(says('only serves its own organisation')).startTest();
  });

  it('walks through the form, re-asks bad answers without losing them, screens, and submits a reference', async () => {
    const adapter = harness.adapterFor('priya');
    await adapter
      .send('new transfer')
      .assertReply(says('Are the accounts transferring from this organisation?'))
      .send('perhaps')
      .assertReply(says('Please answer yes or no.'))
      .send('yes')
      .assertReply(says('Why are these accounts being transferred'))
      .send('short')
      .assertReply(says('Please give the reason in 10 to 1000 characters.'))
      .send(REASON)
      .assertReply(showsCard('Accounts to transfer', 'At most 500 accounts'))
      .send(submit({ step: 'accounts', accounts: `${LIST}\nnot-an-address` }))
      .assertReply((activity) => {
        showsCard('1 of the lines needs correcting (4 accounts were fine)', 'Line 5: \\"not-an-address\\" is not an email address.')(activity);
        const input = (cardBody(activity).body as Array<{ id?: string; value?: string }>).find((element) => element.id === 'accounts');
        assert.equal(input?.value, `${LIST}\nnot-an-address`, 'the list comes back in the box, ready to correct');
      })
      .send(submit({ step: 'accounts', accounts: LIST }))
      .assertReply(isTyping)
      .assertReply(says('Checking 4 accounts against the transfer policy'))
      .send('submit')
      .assertReply(says(/^Still checking: 0 of 4 accounts done/))
      .startTest();

    const results = await screened();
    showsCard('Screening results', '4 accounts checked against the NAS transfer policy.', 'Continue with 2 accounts')(results);
    const text = cardText(results);
    assert.ok(!text.includes(harness.dataSources.policy.version), 'the policy version is for NAS Operations, not shown to the requester');
    assert.match(text, /3\. kezia\.morrow@nhsmail\.example.*?Not eligible.*?The account is marked as a leaver.*?Next step: Unmark the account as a leaver/);
    assert.match(text, /4\. nobody\.here@nhsmail\.example.*?Not eligible.*?NHSmail directory/);
    assert.doesNotMatch(text, /Not found in the directory/, 'an unknown address is explained once, by its reason');
    assert.match(text, /2\. esme\.flint@nhsmail\.example.*?Needs review.*?Site ZZ9103 DSPT status is/);
    assert.match(text, /1\. amara\.mensah@nhsmail\.example.*?Eligible/);
    assert.ok(
      text.indexOf('esme.flint') < text.indexOf('kezia.morrow') && text.indexOf('kezia.morrow') < text.indexOf('amara.mensah'),
      'review first, then not eligible, then eligible',
    );

    // The confirmations come after the results, for the accounts being submitted; ticks survive a correction.
    await adapter
      .send('maybe later')
      .assertReply(says('Use the buttons on the results card'))
      .send(submit({ step: 'submit' }))
      .assertReply(
        showsCard(
          'Before you submit',
          'Confirm each of these for the 2 accounts you are submitting from Northmoor Community Care Partnership',
          'Submit 2 accounts to NAS',
        ),
      )
      .send('submit')
      .assertReply(says('Please tick the confirmations on the card and press **Submit 2 accounts to NAS**'))
      .send(submit({ step: 'attestations', ...ALL_TICKED, notMarkedAsLeavers: 'false', residualDataRemoved: 'false' }))
      .assertReply((activity) => {
        showsCard('All four confirmations are needed', '2 are not ticked')(activity);
        assert.deepEqual(
          toggles(activity),
          { usersInformed: 'true', residualDataRemoved: 'false', notMarkedAsLeavers: 'false', resolutionForIneligible: 'true' },
          'what was ticked stays ticked',
        );
      })
      .send(submit({ step: 'attestations', ...ALL_TICKED }))
      .assertReply(says(/^Submitted\. Your reference is \*\*NTR-\d+\*\* \(2 accounts\)\. 2 accounts that are not eligible were not sent for a decision/))
      // Then the messages to the people affected, drafted for them: consideration 1 and 2 as help, not a tick.
      .assertReply(showsCard('Tell the affected users', 'Being transferred to NAS (2)', 'Dear Amara Mensah', 'Download to send yourself'))
      .startTest();

    const [summary] = await harness.app.requests.listBy(PEOPLE.priya.aadObjectId);
    const request = (await harness.app.requests.get(summary!.id))!;
    assert.deepEqual(
      request.accounts.map((account) => [account.email, account.verdict, account.decision]),
      [
        ['amara.mensah@nhsmail.example', 'eligible', null],
        ['esme.flint@nhsmail.example', 'review', null],
        ['kezia.morrow@nhsmail.example', 'ineligible', null],
        ['nobody.here@nhsmail.example', 'ineligible', null],
      ],
      'the screened-out accounts are kept, for the record',
    );
    assert.deepEqual(request.attestations, { usersInformed: true, residualDataRemoved: true, notMarkedAsLeavers: true, resolutionForIneligible: true });
    assert.equal(request.reason, REASON);
    assert.equal(request.requester.name, 'Priya Okafor');

    const logged = writeLog
      .getCalls()
      .map((call) => call.args[0])
      .join('\n');
    assert.match(logged, new RegExp(`"event":"request.submitted","requestId":${request.id},"reference":"${request.reference}"`));
    assert.doesNotMatch(logged, /07700|sponsorship|amara|nhsmail\.example/i, 'the log holds ids and events, never phone numbers, addresses or message text');

    await adapter
      .send('status')
      .assertReply(says(`**${request.reference}** · Northmoor Community Care Partnership`))
      .send(`status ${request.reference}`)
      .assertReply(says('- esme.flint@nhsmail.example: awaiting decision'))
      .startTest();
  });

  it('carries on where it was after a restart: the dialog lives in the database', async () => {
    await toScreening(harness.adapterFor('priya', 'restart'), FRESH_LIST).startTest();
    showsCard('Screening results', 'Continue with 1 account"')(await screened());
    // A new bot over the same database at each turn, as after a restart or on another instance.
    await harness
      .adapterFor('priya', 'restart')
      .send(submit({ step: 'submit' }))
      .assertReply(showsCard('Before you submit', 'the 1 account you are submitting', 'Submit 1 account to NAS'))
      .startTest();
    await harness
      .adapterFor('priya', 'restart')
      .send(submit({ step: 'attestations', usersInformed: 'true', residualDataRemoved: 'true' }))
      .assertReply((activity) =>
        assert.deepEqual(toggles(activity), {
          usersInformed: 'true',
          residualDataRemoved: 'true',
          notMarkedAsLeavers: 'false',
          resolutionForIneligible: 'false',
        }),
      )
      .startTest();
    await harness
      .adapterFor('priya', 'restart')
      .send('cancel')
      .assertReply(says('Cancelled. Nothing was submitted.'))
      .send('submit')
      .assertReply(says('I did not recognise that.'))
      .startTest();
  });

  it('sets aside a conversation saved by an older version of the form instead of resuming it at the wrong step', async () => {
    const adapter = harness.adapterFor('priya', 'before-deploy');
    await toAccounts(adapter).startTest();
    // As a deploy that reordered the steps finds it: the saved state carries no form version (version 1).
    const key = `msteams/conversations/${adapter.conversation.conversation.id}/dialogState`;
    const [row] = await harness.db.query<{ document: { formVersion?: number } }>('SELECT document FROM bot_state WHERE key = $1', [key]);
    assert.equal(row?.document.formVersion, 2, 'saved with the current version');
    await harness.db.query(`UPDATE bot_state SET document = document - 'formVersion' WHERE key = $1`, [key]);
    const jobs = async () => (await harness.db.query('SELECT 1 FROM screening_jobs')).length;
    const jobsBefore = await jobs();
    await harness
      .adapterFor('priya', 'before-deploy')
      .send(submit({ step: 'accounts', accounts: FRESH_LIST }))
      .assertReply(says('The transfer form has changed since you started it'))
      .send('hello')
      .assertReply(says('Hello Priya.'))
      .startTest();
    const [after] = await harness.db.query<{ document: { state: unknown; formVersion?: number } }>('SELECT document FROM bot_state WHERE key = $1', [key]);
    assert.deepEqual(after?.document, { state: { dialogStack: [] }, formVersion: 2 }, 'the old state is replaced by an empty one, and told once');
    assert.equal(await jobs(), jobsBefore, 'the list sent to the old conversation was not screened');
  });

  it('sends the list back for editing with the reason kept, and a cancel from a card ends the conversation', async () => {
    const adapter = harness.adapterFor('priya');
    await toScreening(adapter, FRESH_LIST).startTest();
    showsCard('Screening results')(await screened());
    await adapter
      .send(submit({ step: 'submit' }))
      .assertReply(showsCard('Before you submit'))
      .send(submit({ step: 'edit' }))
      .assertReply((activity) => {
        const input = (cardBody(activity).body as Array<{ id?: string; value?: string }>).find((element) => element.id === 'accounts');
        assert.equal(input?.value, FRESH_LIST, 'the confirmations card can go back to the list too');
      })
      .send(submit({ step: 'accounts', accounts: FRESH_LIST }))
      .assertReply(isTyping)
      .assertReply(says('Checking 2 accounts'))
      .startTest();
    showsCard('Screening results')(await screened());
    await adapter
      .send(submit({ step: 'edit' }))
      .assertReply(showsCard('Accounts to transfer'))
      .send(submit({ step: 'cancel' }))
      .assertReply(says('Cancelled. Nothing was submitted.'))
      .startTest();
  });

  it('keeps the answers when the directory is down, and screens when the requester asks to retry', async () => {
    const adapter = harness.adapterFor('priya', 'outage');
    // Down once the form is open (Graph throttles every request, the requester's own look-up too).
    await toAccounts(adapter).startTest();
    harness.graph.throttleNext(10_000, 0);
    try {
      await adapter
        .send(submit({ step: 'accounts', accounts: LIST }))
        .assertReply(isTyping)
        .assertReply(says('Checking 4 accounts'))
        .startTest();
      says('I could not check the 4 accounts')(await screened());
    } finally {
      harness.graph.throttleNext(0);
    }
    await adapter.send('retry').assertReply(says('Checking the 4 accounts again')).startTest();
    showsCard('Screening results', '4 accounts checked')(await screened());
    await adapter.send('cancel').assertReply(says('Cancelled.')).startTest();
  });

  it('refuses an oversized list and an empty one with a clear message', async () => {
    const tooMany = Array.from({ length: 501 }, (_, index) => `person.${index}@nhsmail.example`).join('\n');
    await toAccounts(harness.adapterFor('priya'))
      .send(submit({ step: 'accounts', accounts: tooMany }))
      .assertReply(showsCard('That list has 501 accounts; one request may hold at most 500.'))
      .send(submit({ step: 'accounts', accounts: '\n\n' }))
      .assertReply(showsCard('I did not find any accounts.'))
      .send('cancel')
      .assertReply(says('Cancelled.'))
      .startTest();
  });

  it('screens an account already in an open request as ALREADY_REQUESTED, naming that request', async () => {
    const [existing] = await harness.app.requests.listBy(PEOPLE.priya.aadObjectId);
    assert.ok(existing, 'the journey test above submitted a request');
    const adapter = harness.adapterFor('priya');
    await toScreening(adapter).startTest();
    showsCard(existing.reference)(await screened());
    await adapter.send('cancel').assertReply(says('Cancelled.')).startTest();
  });

  it('keeps a request owed to the ops channel while that channel is unknown, and posts it once the bot is added there', async () => {
    await harness.settle();
    assert.equal(harness.messenger.opsPosts().length, 0, 'no ops channel has been seen yet');
    const [queued] = await harness.app.requests.listBy(PEOPLE.priya.aadObjectId);
    const adapter = harness.adapterFor('tom');
    await adapter.processActivity({
      type: 'conversationUpdate',
      from: PEOPLE.tom,
      conversation: opsChannel,
      membersAdded: [{ id: adapter.conversation.bot.id, name: 'NAS Transfer Bot' }],
      channelData: { team: { id: '19:nas-ops-general@thread.tacv2' }, channel: { id: opsChannel.id }, tenant: { id: opsChannel.tenantId } },
    });
    await harness.settle();
    const posted = harness.messenger.opsPosts().map((post) => cardText(post.activity));
    assert.equal(posted.filter((card) => card.includes(`Transfer request ${queued!.reference}`)).length, 1, 'the queued request was posted, once');
    const stored = await harness.app.requests.get(queued!.id);
    assert.equal(stored?.opsConversationId, opsChannel.id);
    assert.ok(stored?.opsActivityId);
    await harness.settle();
    assert.equal(harness.messenger.opsPosts().filter((post) => cardText(post.activity).includes(queued!.reference)).length, 1, 'and never again');
  });

  /** A message in the ops channel, with the @mention Teams requires for a bot to hear it; returns the bot's replies. */
  async function inOpsChannel(user: keyof typeof PEOPLE, text: string): Promise<string> {
    const adapter = harness.adapterFor(user);
    await adapter.processActivity({
      type: 'message',
      text: `<at>NAS Transfer Bot</at> ${text}`,
      from: PEOPLE[user],
      conversation: opsChannel,
      channelData: { tenant: { id: opsChannel.tenantId }, channel: { id: opsChannel.id } },
    });
    return adapter.activeQueue.map((activity) => activity.text ?? '').join('\n');
  }

  /** The journey's request, posted to the ops channel by the test above. */
  async function postedRequest() {
    const summaries = await harness.app.requests.listBy(PEOPLE.priya.aadObjectId);
    const posted = (await Promise.all(summaries.map((summary) => harness.app.requests.get(summary.id)))).find((request) => request?.opsActivityId);
    assert.ok(posted, 'a request was posted to the ops channel');
    return posted;
  }

  it('greets a NAS Operations member as ops in their personal chat, and answers pending, audit and help there', async () => {
    const request = await postedRequest();
    const adapter = harness.adapterFor('tom');
    await adapter
      .send({ type: 'conversationUpdate', membersAdded: [PEOPLE.tom, adapter.conversation.bot], recipient: adapter.conversation.bot })
      .assertReply((activity) => {
        showsCard('Hello Tom.', 'You are in NAS Operations', 'pending', 'audit NTR-…', 'Pending requests')(activity);
        assert.ok(!cardText(activity).includes('Start a new transfer'), 'not the requester’s welcome');
      })
      .send('pending')
      .assertReply(says(/^Awaiting a decision:[\s\S]*\*\*NTR-\d+\*\*/))
      .send(`audit ${request.reference}`)
      .assertReply(says(`**Audit history of ${request.reference}**`))
      .send('help')
      .assertReply(says('You are in NAS Operations'))
      .send('hello')
      .assertReply(says(/^Hello Tom\. You are in NAS Operations/))
      .startTest();
    await harness.adapterFor('priya').send('pending').assertReply(says('Only members of NAS Operations can act on transfer requests.')).startTest();
  });

  it('suggests the nearest command for a typo, greets a hello with what it can do, and says channel commands need an @mention', async () => {
    await harness
      .adapterFor('priya')
      .send('new tranfser')
      .assertReply(says('I did not recognise that. Did you mean **new transfer**?'))
      .send('stauts NTR-100001')
      .assertReply(says('Did you mean **status**?'))
      .send('hello')
      .assertReply(says(/^Hello Priya\. I run the NHSmail transfer/))
      .send('what now?')
      .assertReply(says('I did not recognise that. Type **new transfer**'))
      .startTest();
    assert.match(await inOpsChannel('tom', 'pendng'), /Did you mean \*\*pending\*\*\?/);
    assert.match(await inOpsChannel('tom', 'help'), /@mentions me/);
  });

  it('refuses a malformed command with its own first sentence, not a general one', async () => {
    await harness
      .adapterFor('priya')
      .send('withdraw soon')
      .assertReply((activity) => assert.equal(activity.text, 'Say which request: for example **withdraw NTR-100001**.'))
      .startTest();
  });

  it('posts the requester’s answer in the ops card’s thread, so NAS Operations notice it', async () => {
    const request = await postedRequest();
    await harness.app.requests.ask(request.id, { id: PEOPLE.tom.aadObjectId, name: 'Tom Ashdown' }, 'Which site is esme.flint at?');
    await harness.settle();
    await harness
      .adapterFor('priya')
      .send(`answer ${request.reference} Millbrook Dental Practice, ZZ9103.`)
      .assertReply(says(`Thank you: your answer is on **${request.reference}**`))
      .startTest();
    await harness.settle();
    const thread = `${opsChannel.id};messageid=${request.opsActivityId}`;
    const replies = harness.messenger.sent.filter((message) => message.conversationId === thread);
    assert.equal(replies.length, 1, `one reply in the card's thread; sent to: ${harness.messenger.sent.map((message) => message.conversationId).join(', ')}`);
    assert.equal(
      replies[0]!.activity.text,
      `Priya Okafor answered the question on **${request.reference}** (asked by Tom Ashdown):\n\nMillbrook Dental Practice, ZZ9103.\n\nThe answer is on the card above.`,
    );
  });

  it('lists decided requests still awaiting transfer under pending, and tells the requester NAS’s reason, not the screening’s remedy', async () => {
    const request = await postedRequest();
    const tom = { id: PEOPLE.tom.aadObjectId, name: 'Tom Ashdown' };
    await harness.app.requests.approveEligible(request.id, tom);
    await harness.app.requests.rejectUndecided(request.id, tom, 'The site has not published its DSPT for this year.');
    await harness.settle();
    const pending = await inOpsChannel('tom', 'pending');
    assert.match(
      pending,
      new RegExp(
        `Decided, awaiting transfer \\(approved accounts not yet marked transferred\\):\\n\\n- \\*\\*${request.reference}\\*\\*[^\\n]*Decided[^\\n]*2 accounts \\(1 approved, 1 rejected\\) · approved accounts not yet marked transferred`,
      ),
    );

    const outcome = harness.messenger.toUser('priya').find((message) => cardText(message.activity).includes(`${request.reference} has been decided`));
    assert.ok(outcome, 'the outcome was sent');
    const text = cardText(outcome.activity);
    assert.match(text, /Why: NAS Operations: The site has not published its DSPT for this year\./);
    assert.doesNotMatch(text, /NAS will judge|Otherwise:/, 'no remedy for a review that has already happened');
    assert.match(text, /"title":"Start a new request with the 2 you can fix"/);
  });

  it('a new request from an outcome asks for the reason again, offering the old one', async () => {
    const request = await postedRequest();
    await harness
      .adapterFor('priya')
      .send({ type: 'message', value: { step: 'resubmit', requestId: String(request.id) } })
      .assertReply(says(`A new request from **${request.reference}**, with the 2 accounts you can fix.`))
      .assertReply(says(`Your reason on ${request.reference} was:\n\n> ${REASON}\n\nType **same** to give it again`))
      .send('same')
      .assertReply((activity) => {
        const input = (cardBody(activity).body as Array<{ id?: string; value?: string }>).find((element) => element.id === 'accounts');
        assert.equal(
          input?.value,
          'esme.flint@nhsmail.example, ZZ9103\nkezia.morrow@nhsmail.example, ZZ9101',
          'the rejected and the leaver, each fixable, as stored',
        );
      })
      .send('cancel')
      .assertReply(says('Cancelled.'))
      .startTest();
  });

  it('accepts a pasted header in any order and "Name" <address> lines, counts a repeat once, and refuses an unknown specialism naming the words it knows', async () => {
    await toAccounts(harness.adapterFor('priya'))
      .send(submit({ step: 'accounts', accounts: 'specialism,email\nastrology,wren.hadley@nhsmail.example' }))
      .assertReply((activity) => {
        showsCard(
          '1 of the lines needs correcting (0 accounts were fine)',
          'Line 2: \\"astrology\\" is not a specialism I understand. Use one of: Social care, Pharmacy',
          'GP locum',
          'Specialisms I understand: Social care (or care home',
        )(activity);
        assert.ok(!cardText(activity).includes('gp locum,'), 'sector names properly cased');
      })
      .send(
        submit({
          step: 'accounts',
          accounts: 'specialism,email\n,wren.hadley@nhsmail.example\ndentistry,"Esme Flint" <esme.flint@nhsmail.example>\n,wren.hadley@nhsmail.example',
        }),
      )
      .assertReply(isTyping)
      .assertReply((activity) =>
        assert.equal(
          activity.text,
          'Line 4: listed twice (also line 2): counted once.\n\nChecking 2 accounts against the transfer policy… I will post the results here as soon as they are ready.',
        ),
      )
      .send('cancel')
      .assertReply(says('Cancelled.'))
      .startTest();
  });

  it('counts one account as one, from the list to the reference', async () => {
    const adapter = harness.adapterFor('priya');
    await toAccounts(adapter)
      .send(submit({ step: 'accounts', accounts: 'wren.hadley@nhsmail.example' }))
      .assertReply(isTyping)
      .assertReply(says('Checking 1 account against'))
      .startTest();
    showsCard('1 account checked', 'Continue with 1 account"', 'The account can be submitted.')(await screened());
    await adapter
      .send('continue')
      .assertReply(showsCard('for the 1 account you are submitting', 'Submit 1 account to NAS'))
      .send(submit({ step: 'attestations', ...ALL_TICKED }))
      .assertReply(says(/^Submitted\. Your reference is \*\*NTR-\d+\*\* \(1 account\)\. It is with NAS Operations\./))
      .startTest();
  });
});
