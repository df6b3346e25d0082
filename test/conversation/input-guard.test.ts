import assert from 'node:assert/strict';
import type { Activity } from 'botbuilder';
import { MAX_MESSAGE_CHARS } from '../../bot/middleware/input-guard';
import { DEMO } from '../../config';
import { AppError } from '../../core/errors';
import { cardText, PEOPLE, startHarness, type Harness } from '../support/bot-harness';

const ALL_TICKED = { usersInformed: 'true', residualDataRemoved: 'true', notMarkedAsLeavers: 'true', resolutionForIneligible: 'true' };
const LIST = ['amara.mensah@nhsmail.example, ZZ9101', 'esme.flint@nhsmail.example'].join('\n');

const NUL = '\u0000';
const LONE_SURROGATE = '\ud800';
const RIGHT_TO_LEFT_OVERRIDE = '\u202e';
const C1_CONTROL = '\u0085';
const RIGHT_TO_LEFT_ISOLATE = '\u2067';
/** What a person meant, and what reached the bot once the invisible characters were added. */
const MEANT_REASON = 'Our sponsorship ends on 31 March for these pharmacies.';
const SENT_REASON = `Our sponsorship ${NUL}ends on 31 March${LONE_SURROGATE} for ${RIGHT_TO_LEFT_OVERRIDE}these${C1_CONTROL} ${RIGHT_TO_LEFT_ISOLATE}pharmacies.`;
const INVISIBLE = [NUL, LONE_SURROGATE, RIGHT_TO_LEFT_OVERRIDE, C1_CONTROL, RIGHT_TO_LEFT_ISOLATE];

const submit = (value: Record<string, string>): Partial<Activity> => ({ type: 'message', value });
const says = (fragment: string) => (activity: Partial<Activity>) => {
  const text = activity.text ?? '';
  assert.ok(text.includes(fragment), `expected a reply containing "${fragment}", got "${text || cardText(activity).slice(0, 300)}"`);
};
const showsCard = (fragment: string) => (activity: Partial<Activity>) => {
  assert.ok(cardText(activity).includes(fragment), `expected a card containing "${fragment}", got ${cardText(activity).slice(0, 300)}`);
};

describe('input guard: what reaches the bot is bounded and clean (real bot, TestAdapter)', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(() => harness.close());

  it('accepts a reason with NUL, a lone surrogate, C1 and bidi controls, carries on, and stores the reason without them', async () => {
    const adapter = harness.adapterFor('priya');
    await adapter
      .send('new transfer')
      .assertReply(says('Are the accounts transferring from this organisation?'))
      .send('yes')
      .assertReply(says('Why are these accounts being transferred'))
      .send(SENT_REASON)
      // The turn after: the dialog state with the reason in it was saved, so the bot knows where it is.
      .assertReply(showsCard('Accounts to transfer'))
      .send(submit({ step: 'accounts', accounts: LIST }))
      .assertReply((activity) => assert.equal(activity.type, 'typing'))
      .assertReply(says('Checking 2 accounts'))
      .startTest();
    await harness.settle();
    showsCard('Screening results')(harness.messenger.toUser('priya').at(-1)!.activity);
    await adapter
      .send(submit({ step: 'submit' }))
      .assertReply(showsCard('Before you submit'))
      .send(submit({ step: 'attestations', ...ALL_TICKED }))
      .assertReply(says('Submitted. Your reference is'))
      .startTest();

    const [latest] = await harness.app.requests.listBy(PEOPLE.priya.aadObjectId);
    const request = (await harness.app.requests.get(latest!.id))!;
    for (const character of INVISIBLE) assert.ok(!request.reason.includes(character), `U+${character.charCodeAt(0).toString(16).toUpperCase()} was stored`);
    assert.equal(request.reason.replace('\ufffd', ''), MEANT_REASON, 'the lone surrogate became U+FFFD; the rest is what the person wrote');
    assert.deepEqual(request.accounts.map((account) => account.email).sort(), ['amara.mensah@nhsmail.example', 'esme.flint@nhsmail.example']);
  });

  it('answers an over-long message with the limit, and it changes nothing', async () => {
    const adapter = harness.adapterFor('priya');
    const tooLong = `new transfer ${'x'.repeat(MAX_MESSAGE_CHARS)}`;
    await adapter
      .send('new transfer')
      .assertReply(says('Are the accounts transferring from this organisation?'))
      .send('yes')
      .assertReply(says('Why are these accounts being transferred'))
      .send(tooLong)
      .assertReply(says(`That message is too long for me to read (${tooLong.length.toLocaleString('en-GB')} characters; at most 60,000). Nothing was changed.`))
      // Still asked for the reason: the long message was not taken as one, nor as anything else.
      .send(MEANT_REASON)
      .assertReply(showsCard('Accounts to transfer'))
      .startTest();
    assert.equal(adapter.activeQueue.length, 0, 'one reply to the long message, nothing more');
  });

  it('counts what a card sent towards the limit too', async () => {
    await harness
      .adapterFor('priya')
      .send(submit({ step: 'accounts', accounts: 'a'.repeat(MAX_MESSAGE_CHARS) }))
      .assertReply(says('That message is too long for me to read'))
      .send('cancel')
      .assertReply(says('There is nothing to cancel.'))
      .startTest();
  });

  describe('a tenant in channelData that is not the conversation’s (ours) is refused', () => {
    const otherTenant = { tenant: { id: 'another-tenant' } };

    it('message: the bot says it serves only its own tenant, and does nothing else', async () => {
      const adapter = harness.adapterFor('priya');
      assert.equal(adapter.conversation.conversation.tenantId, DEMO.tenantId);
      await adapter
        .send({ type: 'message', text: 'new transfer', channelData: otherTenant })
        .assertReply(says(new AppError('WRONG_TENANT').userMessage))
        .send('cancel')
        .assertReply(says('There is nothing to cancel.'))
        .startTest();
    });

    it('invoke: 403, and nothing sent', async () => {
      const adapter = harness.adapterFor('priya');
      await adapter.processActivity({
        type: 'invoke',
        name: 'adaptiveCard/action',
        from: PEOPLE.priya,
        conversation: adapter.conversation.conversation,
        channelData: otherTenant,
        value: { action: { type: 'Action.Execute', verb: 'showPage', data: { requestId: 1, start: 0 } }, trigger: 'manual' },
      });
      assert.deepEqual(
        adapter.activeQueue.map((activity) => [activity.type, activity.value]),
        [['invokeResponse', { status: 403 }]],
      );
    });
  });
});
