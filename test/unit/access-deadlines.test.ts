import assert from 'node:assert/strict';
import sinon from 'sinon';
import { AccessControl, INTERACTIVE_DIRECTORY_MS, MESSAGE_DIRECTORY_MS, WELCOME_DIRECTORY_MS } from '../../bot/access-control';
import type { Directory } from '../../services/directory/graph-directory';
import type { OrganisationLookup } from '../../services/reference/ord-client';

const REQUESTERS = 'group-requesters';
const OPS = 'group-ops';

/** A directory that answers everything correctly, each answer after `delayMs` (of fake time). */
function slowDirectory(delayMs: number): Directory {
  const after = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), delayMs));
  return {
    lookupAccounts: () => after(new Map()),
    lookUpPerson: (userId, groupIds) =>
      after({
        groups: new Set(groupIds),
        administrator: { id: userId, displayName: 'Priya Okafor', userPrincipalName: 'priya@nhsmail.example', organisationOds: 'ZZ9001' },
      }),
  };
}

const organisations = { getOrganisation: async () => ({ name: 'NORTHMOOR COMMUNITY CARE PARTNERSHIP' }) } as unknown as OrganisationLookup;

describe('how long someone waiting in Teams waits for the directory', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  const access = (delayMs: number) => new AccessControl(slowDirectory(delayMs), organisations, { requesterGroupId: REQUESTERS, opsGroupId: OPS });

  it('lets a requester’s message wait longer than a click: its answer goes to the chat, not into an invoke’s 15 s', async () => {
    assert.ok(MESSAGE_DIRECTORY_MS > INTERACTIVE_DIRECTORY_MS);
    const answer = access(INTERACTIVE_DIRECTORY_MS + 1000).requester('priya');
    await clock.tickAsync(INTERACTIVE_DIRECTORY_MS + 1000);
    assert.deepEqual(await answer, { id: 'priya', name: 'Priya Okafor', organisationOds: 'ZZ9001', organisationName: 'Northmoor Community Care Partnership' });
  });

  it('tells a requester the directory could not be reached once the message’s own limit has passed, never "eligible" or a guess', async () => {
    const answer = access(MESSAGE_DIRECTORY_MS + 1000).requester('priya');
    const refused = assert.rejects(answer, { code: 'DIRECTORY_UNAVAILABLE' });
    await clock.tickAsync(MESSAGE_DIRECTORY_MS + 1);
    await refused;
  });

  it('keeps a click to the invoke’s budget: a NAS Operations check slower than 3 s is refused', async () => {
    const answer = access(INTERACTIVE_DIRECTORY_MS + 1000).opsMember('tom');
    const refused = assert.rejects(answer, (error: { code?: string }) => ['DIRECTORY_UNAVAILABLE', 'OPS_UNCONFIRMED'].includes(error.code ?? ''));
    await clock.tickAsync(INTERACTIVE_DIRECTORY_MS + 1);
    await refused;
  });

  it('gives the install welcome WELCOME_DIRECTORY_MS: in time it places the person, later it says "not yet", and the next turn knows', async () => {
    const quick = access(WELCOME_DIRECTORY_MS - 100);
    const onTime = quick.opsMemberWithin('tom', WELCOME_DIRECTORY_MS);
    await clock.tickAsync(WELCOME_DIRECTORY_MS - 100);
    assert.equal(await onTime, true, 'the directory (every group, here) answered in time');

    const slow = access(WELCOME_DIRECTORY_MS + 1000);
    const late = slow.opsMemberWithin('tom', WELCOME_DIRECTORY_MS);
    await clock.tickAsync(WELCOME_DIRECTORY_MS + 1);
    assert.equal(await late, undefined, 'not placed yet: the welcome does not wait longer');
    await clock.tickAsync(1000);
    assert.equal(slow.knownOpsMember('tom'), true, 'the look-up went on, and the next turn knows');
  });
});
