import assert from 'node:assert/strict';
import { AccessControl, REQUESTER_TTL_MS, WARM_UPS_AT_ONCE } from '../../bot/access-control';
import type { Directory } from '../../services/directory/graph-directory';
import type { OrganisationLookup } from '../../services/reference/ord-client';

const REQUESTERS = 'group-requesters';
const OPS = 'group-ops';

/**
 * A directory whose group members can change, counting the look-ups it answers (one Graph batch each); `down` makes every
 * call fail; calls about the people in `held` wait until `release()`.
 */
function directory() {
  let release = () => undefined as void;
  let released = new Promise<void>((resolve) => (release = resolve));
  const state = {
    members: new Set<string>(),
    down: false,
    hang: false,
    calls: 0,
    held: new Set<string>(),
    release: () => {
      release();
      released = new Promise<void>((resolve) => (release = resolve));
    },
  };
  const answer = async <T>(value: () => T, userId?: string): Promise<T> => {
    state.calls++;
    if (state.hang) return new Promise<T>(() => undefined);
    if (userId !== undefined && state.held.has(userId)) await released;
    if (state.down) throw Object.assign(new Error('Graph 503'), { code: 'DIRECTORY_UNAVAILABLE' });
    return value();
  };
  const port: Directory = {
    lookupAccounts: async () => new Map(),
    lookUpPerson: (userId, groupIds) =>
      answer(
        () => ({
          groups: new Set(groupIds.filter((group) => state.members.has(`${userId}@${group}`))),
          administrator: { id: userId, displayName: 'Priya Okafor', userPrincipalName: 'priya@nhsmail.example', organisationOds: 'ZZ9001' },
        }),
        userId,
      ),
  };
  return { state, port };
}

const organisations = { getOrganisation: async () => ({ name: 'NORTHMOOR COMMUNITY CARE PARTNERSHIP' }) } as unknown as OrganisationLookup;

function setUp(options: { warmUpDeadlineMs?: number } = {}) {
  const { state, port } = directory();
  const clock = { now: 1_000_000 };
  const access = new AccessControl(port, organisations, { requesterGroupId: REQUESTERS, opsGroupId: OPS, ...options }, () => clock.now);
  return { state, clock, access };
}

describe('the requester look-up and "not in NAS Operations" are kept for a short, stated time, failing closed', () => {
  it('serves a confirmed requester’s next turns without the directory, and sees a removal once REQUESTER_TTL_MS has passed', async () => {
    const { state, clock, access } = setUp();
    state.members.add(`priya@${REQUESTERS}`);
    assert.equal((await access.requester('priya')).organisationOds, 'ZZ9001');
    const calls = state.calls;
    await access.requester('priya');
    assert.equal(state.calls, calls, 'the second turn asked nobody');
    state.members.delete(`priya@${REQUESTERS}`);
    clock.now += REQUESTER_TTL_MS + 1;
    await assert.rejects(access.requester('priya'), { code: 'NOT_AN_ADMINISTRATOR' });
  });

  it('counts REQUESTER_TTL_MS from when the look-up began, not when a slow directory answered', async () => {
    const { state, clock, access } = setUp();
    state.members.add(`priya@${REQUESTERS}`);
    const looking = access.requester('priya');
    // The directory takes most of the minute to answer (Retry-After honoured inside Graph's client).
    clock.now += REQUESTER_TTL_MS - 1000;
    await looking;
    state.members.delete(`priya@${REQUESTERS}`);
    clock.now += 1001;
    await assert.rejects(access.requester('priya'), { code: 'NOT_AN_ADMINISTRATOR' }, 'the removal is seen REQUESTER_TTL_MS after the look-up began');
  });

  it('keeps no refusal and no failure: the next turn asks again', async () => {
    const { state, access } = setUp();
    await assert.rejects(access.requester('priya'), { code: 'NOT_AN_ADMINISTRATOR' });
    state.members.add(`priya@${REQUESTERS}`);
    state.down = true;
    await assert.rejects(access.requester('priya'));
    state.down = false;
    assert.equal((await access.requester('priya')).id, 'priya');
  });

  it('looks a requester up once when their chat becomes known, and the first turn finds the answer (one look-up between them)', async () => {
    const { state, access } = setUp();
    state.members.add(`priya@${REQUESTERS}`);
    access.warmRequester('priya');
    await access.requester('priya');
    assert.equal(state.calls, 1, 'one look-up (the groups and the entry), shared');
  });

  it('warming never throws, whatever the directory says', async () => {
    const { state, access } = setUp();
    state.down = true;
    access.warmRequester('priya');
    access.warmRequester(undefined);
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('trusts "not in NAS Operations" for a minute (it only withholds ops rights), then asks again', async () => {
    const { state, clock, access } = setUp();
    assert.equal(await access.isOpsMember('priya'), false);
    const calls = state.calls;
    assert.equal(await access.isOpsMember('priya'), false);
    await assert.rejects(access.opsMember('priya'), { code: 'NOT_OPS' });
    assert.equal(state.calls, calls, 'no directory call for the repeat');
    state.members.add(`priya@${OPS}`);
    clock.now += 60_001;
    assert.equal(await access.isOpsMember('priya'), true, 'added to the group: seen as ops once the minute has passed');
  });

  it('asks the directory once for a new chat whose first turn is "help": the warmed requester look-up and the ops check share it', async () => {
    const { state, access } = setUp();
    state.members.add(`tom@${OPS}`);
    access.warmRequester('tom');
    assert.equal(await access.isOpsMember('tom'), true);
    await assert.rejects(access.requester('tom'), { code: 'NOT_AN_ADMINISTRATOR' }, 'in NAS Operations, not a requester');
    assert.equal(state.calls, 2, 'one look-up for the warm-up and the ops check; the refusal is asked again');
  });

  it('joins a look-up in flight only while it is young: one hung on Graph does not hold the next check', async () => {
    const { state, clock, access } = setUp();
    state.members.add(`tom@${OPS}`);
    state.hang = true;
    access.warmRequester('tom');
    assert.equal(state.calls, 1);
    clock.now += 5000;
    state.hang = false;
    assert.equal(await access.isOpsMember('tom'), true, 'a fresh look-up answered, not the hung one');
    assert.equal(state.calls, 2);
  });

  it('answers "which help" from what the directory last said, never waiting: unknown at first (a look-up starts), then the answer', async () => {
    const { state, clock, access } = setUp();
    state.members.add(`tom@${OPS}`);
    assert.equal(access.knownOpsMember('tom'), undefined, 'nobody has asked yet');
    assert.equal(state.calls, 1, 'but the question starts a look-up off the turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(access.knownOpsMember('tom'), true);
    assert.equal(access.knownOpsMember('priya'), undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(access.knownOpsMember('priya'), false);
    clock.now += 24 * 60 * 60_000;
    const calls = state.calls;
    assert.equal(access.knownOpsMember('tom'), true, 'words only: the last answer serves however old it is');
    assert.equal(state.calls, calls, 'and costs no directory call');
    state.members.delete(`tom@${OPS}`);
    await assert.rejects(access.opsMember('tom'), { code: 'NOT_OPS' }, 'acting still asks the directory, and fails closed');
    assert.equal(access.knownOpsMember('tom'), false, 'the new answer is what the words follow next');
  });

  it('warms a few people at a time (a burst of new chats does not open a look-up each at once); a turn that needs the answer never waits behind them', async () => {
    const { state, access } = setUp();
    const people = Array.from({ length: WARM_UPS_AT_ONCE + 6 }, (_, index) => `person-${index}`);
    for (const person of people) {
      state.members.add(`${person}@${REQUESTERS}`);
      state.held.add(person);
    }
    for (const person of people) access.warmRequester(person);
    assert.equal(state.calls, WARM_UPS_AT_ONCE, 'a batch of warm-ups at once');
    assert.equal(access.warmUpsBusy(), true);
    const last = people[people.length - 1]!;
    state.held.delete(last);
    assert.equal((await access.requester(last)).id, last, 'a turn asks at once, whatever is queued');
    assert.equal(state.calls, WARM_UPS_AT_ONCE + 1);
    state.held.clear();
    state.release();
    for (let tick = 0; tick < 50; tick++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(state.calls, people.length, 'the queued ones went as places freed: each person asked once (the last by their turn, not again)');
    assert.equal(access.warmUpsBusy(), false, 'none queued or open');
    const calls = state.calls;
    for (const person of people) assert.equal((await access.requester(person)).id, person);
    assert.equal(state.calls, calls, 'every warmed requester serves their next turn without the directory');
  });

  it('a queued warm-up takes the answer someone else asked for meanwhile (the install welcome’s ops check), kept REQUESTER_TTL_MS from when that began', async () => {
    const { state, clock, access } = setUp();
    for (let index = 0; index < WARM_UPS_AT_ONCE; index++) {
      state.held.add(`person-${index}`);
      access.warmRequester(`person-${index}`);
    }
    state.members.add(`tom@${OPS}`).add(`tom@${REQUESTERS}`);
    access.warmRequester('tom');
    assert.equal(state.calls, WARM_UPS_AT_ONCE, 'tom waits for a place');
    assert.equal(await access.isOpsMember('tom'), true);
    assert.equal(state.calls, WARM_UPS_AT_ONCE + 1, 'the ops check asked at once');
    clock.now += 30_000;
    state.release();
    for (let tick = 0; tick < 50; tick++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await access.requester('tom')).id, 'tom');
    assert.equal(state.calls, WARM_UPS_AT_ONCE + 1, 'the warm-up and the requester’s turn used the ops check’s answer');
    clock.now += REQUESTER_TTL_MS - 30_000;
    assert.equal((await access.requester('tom')).id, 'tom');
    assert.equal(state.calls, WARM_UPS_AT_ONCE + 2, 'asked again REQUESTER_TTL_MS after the ops check began, not after the warm-up');
  });

  it('a hung look-up gives up its place after the deadline, but Graph never has more than twice the places of them open', async () => {
    const { state, access } = setUp({ warmUpDeadlineMs: 20 });
    state.hang = true;
    for (let index = 0; index < 3 * WARM_UPS_AT_ONCE; index++) access.warmRequester(`person-${index}`);
    assert.equal(state.calls, WARM_UPS_AT_ONCE);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(state.calls, 2 * WARM_UPS_AT_ONCE, 'the first batch passed its deadline: another went');
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(state.calls, 2 * WARM_UPS_AT_ONCE, 'twice the places still open: the rest wait for one of them to end');
  });
});
