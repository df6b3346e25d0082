import assert from 'node:assert/strict';
import type { Activity, ConversationReference } from 'botbuilder';
import type { Messenger } from '../../bot/messaging/messenger';
import { ChatScreeningProgress } from '../../bot/messaging/screening-progress';
import type { ConversationReferences } from '../../bot/state/conversation-references';
import type { Reservation, SendDestination, SendPacer } from '../../services/outbox/send-pacing';
import type { ScreeningJob, ScreeningJobs } from '../../services/store/screening-jobs';

const job = { id: 'job-1', ownerId: 'priya', total: 500, progressActivityId: 'checking-1' } as ScreeningJob;
const chat: Partial<ConversationReference> = { conversation: { id: 'a:priya-chat', tenantId: 't1', isGroup: false, conversationType: 'personal', name: '' } };

/** Stands in for the Bot Connector: each update is held until the test lets it go. */
class HeldMessenger implements Messenger {
  readonly shown: string[] = [];
  private release: Array<() => void> = [];
  async send(): Promise<string> {
    throw new Error('progress only updates');
  }
  async update(_reference: Partial<ConversationReference>, _activityId: string, activity: Partial<Activity>): Promise<void> {
    this.shown.push(/(\d+) of 500/.exec(activity.text ?? '')?.[1] ?? '?');
    await new Promise<void>((resolve) => this.release.push(resolve));
  }
  letOneGo(): void {
    this.release.shift()?.();
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('screening progress (coalesced and paced)', () => {
  const jobs = { get: async () => job } as unknown as ScreeningJobs;
  const references = { get: async () => chat } as unknown as ConversationReferences;

  it('shows only the latest count once the update in flight is done', async () => {
    const messenger = new HeldMessenger();
    const reserved: SendDestination[] = [];
    const pacer: SendPacer = { reserve: async (to) => (reserved.push(to), { granted: true }) };
    const progress = new ChatScreeningProgress(jobs, references, messenger, pacer);
    const first = progress.report(job, 100);
    await tick();
    const meanwhile = [progress.report(job, 200), progress.report(job, 300), progress.report(job, 400)];
    await Promise.all(meanwhile);
    messenger.letOneGo();
    await tick();
    messenger.letOneGo();
    await first;
    assert.deepEqual(messenger.shown, ['100', '400'], 'the two counts in between were never sent');
    assert.equal(reserved.length, 2, 'each update took a slot');
    assert.deepEqual(reserved[0], { conversation: 'a:priya-chat', tenant: 't1' });
  });

  it('says the chat is back when its update was the probe of a chat found down, and only then', async () => {
    const messenger = new HeldMessenger();
    const answers: Reservation[] = [{ granted: true, probe: true }, { granted: true }];
    const back: SendDestination[] = [];
    const pacer: SendPacer = { reserve: async () => answers.shift() ?? { granted: true }, serviceBack: async (to) => void back.push(to) };
    const progress = new ChatScreeningProgress(jobs, references, messenger, pacer);
    const first = progress.report(job, 100);
    await tick();
    messenger.letOneGo();
    await first;
    assert.deepEqual(back, [{ conversation: 'a:priya-chat', tenant: 't1' }], 'the probe was taken');
    const second = progress.report(job, 200);
    await tick();
    messenger.letOneGo();
    await second;
    assert.equal(back.length, 1, 'an ordinary update says nothing of the chat’s health');
  });

  it('waits for a slot, and shows the latest count when it comes', async () => {
    const messenger = new HeldMessenger();
    const answers: Reservation[] = [{ granted: false, waitMs: 60 }, { granted: true }];
    const progress = new ChatScreeningProgress(jobs, references, messenger, { reserve: async () => answers.shift() ?? { granted: true } });
    const first = progress.report(job, 100);
    await progress.report(job, 250);
    await new Promise((resolve) => setTimeout(resolve, 120));
    messenger.letOneGo();
    await first;
    assert.deepEqual(messenger.shown, ['250']);
  });

  it('does not wait for a slot further off than the next report', async () => {
    const messenger = new HeldMessenger();
    await new ChatScreeningProgress(jobs, references, messenger, { reserve: async () => ({ granted: false, waitMs: 60_000 }) }).report(job, 100);
    assert.deepEqual(messenger.shown, []);
  });
});
