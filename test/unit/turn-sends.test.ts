import assert from 'node:assert/strict';
import { ActivityEventNames, ActivityTypes, TestAdapter, type TurnContext } from 'botbuilder';
import { TurnSendsCounted, type SendsSpent } from '../../bot/middleware/turn-sends';
import { createLogger } from '../../core/log';
import type { SendDestination } from '../../services/outbox/send-pacing';

const TENANT = 'tenant-1';

/** A budget that remembers what it was told, or refuses to record. */
function budget(fails = false): SendsSpent & { spentOn: Array<[SendDestination, number]> } {
  const spentOn: Array<[SendDestination, number]> = [];
  return {
    spentOn,
    spent: async (destination, requests) => {
      if (fails) throw new Error('database unavailable');
      spentOn.push([destination, requests]);
    },
  };
}

function adapterWith(counted: SendsSpent, logLines: string[], bot: (context: TurnContext) => Promise<void>): TestAdapter {
  const adapter = new TestAdapter(bot);
  adapter.use(
    new TurnSendsCounted(
      counted,
      createLogger('debug', (line) => logLines.push(line)),
    ),
  );
  adapter.conversation.channelId = 'msteams';
  adapter.conversation.conversation = { id: 'a:priya-chat', tenantId: TENANT, isGroup: false, conversationType: 'personal', name: '' };
  return adapter;
}

/** The records are written after the replies went, without the turn waiting: give them a moment. */
const recorded = () => new Promise((resolve) => setImmediate(resolve));

describe('a turn’s own replies count against Teams’ limits (never held for them)', () => {
  it('records each reply sent to the chat, by conversation and tenant', async () => {
    const spent = budget();
    const adapter = adapterWith(spent, [], async (context) => {
      await context.sendActivities([{ type: ActivityTypes.Typing }, { type: ActivityTypes.Message, text: 'Checking 3 accounts…' }]);
      await context.sendActivity('And one more.');
    });
    await adapter.send('new transfer').assertReply((reply) => assert.equal(reply.type, ActivityTypes.Typing));
    await recorded();
    assert.deepEqual(spent.spentOn, [
      [{ conversation: 'a:priya-chat', tenant: TENANT }, 2],
      [{ conversation: 'a:priya-chat', tenant: TENANT }, 1],
    ]);
  });

  it('counts an update of a message in place as a request', async () => {
    const spent = budget();
    const adapter = adapterWith(spent, [], async (context) => {
      await context.updateActivity({ id: 'activity-7', type: ActivityTypes.Message, text: 'updated' });
    });
    await adapter.send('hello');
    await recorded();
    assert.deepEqual(spent.spentOn, [[{ conversation: 'a:priya-chat', tenant: TENANT }, 1]]);
  });

  it('does not count an invoke response: it goes back in the HTTP answer, not as a request to Teams', async () => {
    const spent = budget();
    const adapter = adapterWith(spent, [], async (context) => {
      await context.sendActivity({ type: 'invokeResponse', value: { status: 200, body: {} } });
    });
    await adapter.send({ type: ActivityTypes.Invoke, name: 'adaptiveCard/action', value: {} });
    await recorded();
    assert.deepEqual(spent.spentOn, []);
  });

  it('does not count the outbox’s own sends again: they took their slot before they went', async () => {
    const spent = budget();
    const adapter = adapterWith(spent, [], async (context) => {
      await context.sendActivity('Transfer request NTR-100001 has been decided.');
    });
    // What CloudAdapter.continueConversation runs through the middleware for a proactive send.
    await adapter
      .send({ type: ActivityTypes.Event, name: ActivityEventNames.ContinueConversation })
      .assertReply('Transfer request NTR-100001 has been decided.')
      .startTest();
    await recorded();
    assert.deepEqual(spent.spentOn, []);
  });

  it('still delivers the reply when the record cannot be written, and logs only a count', async () => {
    const lines: string[] = [];
    const adapter = adapterWith(budget(true), lines, async (context) => {
      await context.sendActivity('Your reference is NTR-100001.');
    });
    await adapter.send('submit').assertReply('Your reference is NTR-100001.');
    await recorded();
    const warnings = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.event === 'send_budget.record_failed');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.requests, 1);
    assert.doesNotMatch(lines.join('\n'), /NTR-100001|database unavailable/, 'no message text, no error detail');
  });
});
