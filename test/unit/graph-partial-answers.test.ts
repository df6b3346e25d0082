import assert from 'node:assert/strict';
import { startSandbox, type RunningSandbox } from '../../dev/sandbox/http-sandbox';
import { createGraphClient } from '../../services/directory/graph-client';
import { GraphDirectory } from '../../services/directory/graph-directory';

/*
 * Issue 20: a check that read its data only in part never yields "eligible". Graph answers
 * every $select-ed property (null when it has no value) and all 15 extension attributes; an
 * answer missing one, about someone else, or answered twice is a partial answer, and the
 * look-up fails (DIRECTORY_UNAVAILABLE: "could not check"), rather than reading the gap as
 * "enabled", "not a leaver" or "no other addresses". Each case is a $batch answer over HTTP.
 */
const ATTRIBUTES = {
  organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
  site: 'onPremisesExtensionAttributes.extensionAttribute2',
  leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
  leaverValue: 'Leaver',
};
const EMAIL = 'chloe.danvers@nhsmail.example';

type User = Record<string, unknown> & { onPremisesExtensionAttributes: Record<string, unknown> };
/** A whole answer, as Graph gives it for the fields the bot selects. */
function wholeUser(): User {
  return {
    id: 'chloe-id',
    userPrincipalName: EMAIL,
    displayName: 'Chloe Danvers',
    givenName: 'Chloe',
    surname: 'Danvers',
    accountEnabled: true,
    mobilePhone: '+447400123103',
    jobTitle: 'Optometrist',
    department: 'Clinical',
    otherMails: [],
    proxyAddresses: [`SMTP:${EMAIL}`],
    onPremisesExtensionAttributes: Object.fromEntries(Array.from({ length: 15 }, (_, index) => [`extensionAttribute${index + 1}`, null])),
  };
}

type Answer = (id: string) => Array<{ id: string; status: number; body?: unknown }>;
const userAnswer =
  (change: (user: User) => void): Answer =>
  (id) => {
    const user = wholeUser();
    user.onPremisesExtensionAttributes.extensionAttribute1 = 'ZZ9001';
    user.onPremisesExtensionAttributes.extensionAttribute2 = 'ZZ9102';
    change(user);
    return [{ id, status: 200, body: user }];
  };

describe('Graph answers in part are never read as "no problem" (issue 20)', () => {
  let graph: RunningSandbox;
  let answer: Answer;

  before(async () => {
    graph = await startSandbox((request) =>
      request.path === '/v1.0/$batch'
        ? { status: 200, body: { responses: answer((request.body as { requests: Array<{ id: string }> }).requests[0]!.id) } }
        : undefined,
    );
  });
  after(() => graph.close());

  const lookUp = () => new GraphDirectory(createGraphClient(graph.url), ATTRIBUTES, async () => undefined).lookupAccounts([EMAIL]);

  it('reads a whole answer (the control: the same answer as below, nothing missing)', async () => {
    answer = userAnswer(() => undefined);
    const account = (await lookUp()).get(EMAIL);
    assert.equal(account?.accountEnabled, true);
    assert.equal(account?.markedAsLeaver, false);
    assert.equal(account?.siteOds, 'ZZ9102');
  });

  const partial: Array<{ name: string; answer: Answer }> = [
    { name: 'accountEnabled left out (was read as enabled)', answer: userAnswer((user) => delete user.accountEnabled) },
    { name: 'accountEnabled null (was read as enabled)', answer: userAnswer((user) => (user.accountEnabled = null)) },
    {
      name: 'the leaver attribute left out (was read as not a leaver)',
      answer: userAnswer((user) => delete user.onPremisesExtensionAttributes.extensionAttribute3),
    },
    { name: 'onPremisesExtensionAttributes left out', answer: userAnswer((user) => delete (user as Record<string, unknown>).onPremisesExtensionAttributes) },
    {
      name: 'otherMails and proxyAddresses left out (the centrally funded email check never ran)',
      answer: userAnswer((user) => {
        delete user.otherMails;
        delete user.proxyAddresses;
      }),
    },
    { name: 'otherMails null', answer: userAnswer((user) => (user.otherMails = null)) },
    { name: 'mobilePhone left out (null is "none registered"; missing is not an answer)', answer: userAnswer((user) => delete user.mobilePhone) },
    {
      name: 'an answer about someone else (another user principal name)',
      answer: userAnswer((user) => (user.userPrincipalName = 'someone.else@nhsmail.example')),
    },
    {
      name: 'two answers for one request (found, then not found)',
      answer: (id) => [...userAnswer(() => undefined)(id), { id, status: 404, body: { error: { code: 'Request_ResourceNotFound', message: 'Not found.' } } }],
    },
    {
      name: 'a 404 that is not Graph’s "no such user" (was read as not found)',
      answer: (id) => [{ id, status: 404, body: { error: { code: 'UnknownError', message: '' } } }],
    },
  ];
  for (const { name, answer: given } of partial) {
    it(`could not check: ${name}`, async () => {
      answer = given;
      await assert.rejects(lookUp(), (error: { code?: string; userMessage?: string }) => {
        assert.equal(error.code, 'DIRECTORY_UNAVAILABLE');
        return true;
      });
    });
  }

  it('Graph’s own "no such user" is still not found (an account that does not exist)', async () => {
    answer = (id) => [{ id, status: 404, body: { error: { code: 'Request_ResourceNotFound', message: 'Resource does not exist.' } } }];
    assert.equal((await lookUp()).get(EMAIL), null);
  });

  it('a directory extension at the top level may be left out: Graph omits one with no value', async () => {
    answer = userAnswer((user) => (user.extension_0f3a_leaver = 'Leaver'));
    const extension = { ...ATTRIBUTES, leaver: 'extension_0f3a_leaver' };
    const directory = new GraphDirectory(createGraphClient(graph.url), extension, async () => undefined);
    assert.equal((await directory.lookupAccounts([EMAIL])).get(EMAIL)?.markedAsLeaver, true);
    answer = userAnswer(() => undefined);
    assert.equal((await directory.lookupAccounts([EMAIL])).get(EMAIL)?.markedAsLeaver, false);
  });
});

/*
 * The person look-up (who is writing or clicking): their entry and checkMemberGroups in one
 * $batch. An answer in part, about someone else, or with a 404 that is not "no such user" fails
 * the look-up, so access fails closed (DIRECTORY_UNAVAILABLE), never "not in the group".
 */
describe('a person look-up answered in part is "could not check", never "not a member"', () => {
  const PERSON = 'priya-id';
  const extensionAttributes = Object.fromEntries(Array.from({ length: 15 }, (_, index) => [`extensionAttribute${index + 1}`, index === 0 ? 'ZZ9001' : null]));
  const entry = {
    id: 'entry-1',
    status: 200,
    body: { id: PERSON, userPrincipalName: 'priya.okafor@nhsmail.example', displayName: 'Priya Okafor', onPremisesExtensionAttributes: extensionAttributes },
  };
  const groups = { id: 'groups-1', status: 200, body: { value: ['group-a'] } };
  const notFound = (id: string) => ({ id, status: 404, body: { error: { code: 'Request_ResourceNotFound', message: 'Resource does not exist.' } } });
  let graph: RunningSandbox;
  let responses: unknown[];

  before(async () => {
    graph = await startSandbox((request) => (request.path === '/v1.0/$batch' ? { status: 200, body: { responses } } : undefined));
  });
  after(() => graph.close());

  const lookUp = () => new GraphDirectory(createGraphClient(graph.url), ATTRIBUTES, async () => undefined).lookUpPerson(PERSON, ['group-a', 'group-b']);

  it('reads a whole answer, in either order (the control)', async () => {
    responses = [groups, entry];
    const person = await lookUp();
    assert.deepEqual([...person.groups], ['group-a']);
    assert.equal(person.administrator?.displayName, 'Priya Okafor');
    assert.equal(person.administrator?.organisationOds, 'ZZ9001');
  });

  it('Graph’s own "no such user" is no entry and no groups', async () => {
    responses = [notFound('entry-1'), notFound('groups-1')];
    assert.deepEqual(await lookUp(), { groups: new Set(), administrator: null });
  });

  const partial: Array<{ name: string; responses: unknown[] }> = [
    { name: 'the group check not answered', responses: [entry] },
    { name: 'the entry not answered', responses: [groups] },
    { name: 'the group check refused (403)', responses: [entry, { id: 'groups-1', status: 403, body: { error: { code: 'Authorization_RequestDenied' } } }] },
    { name: 'the group check answered without its list', responses: [entry, { id: 'groups-1', status: 200, body: {} }] },
    {
      name: 'an entry about someone else',
      responses: [{ ...entry, body: { ...entry.body, id: 'someone-else', userPrincipalName: 'someone.else@nhsmail.example' } }, groups],
    },
    { name: 'a 404 that is not Graph’s "no such user"', responses: [entry, { id: 'groups-1', status: 404, body: { error: { code: 'UnknownError' } } }] },
    { name: 'the group check answered twice', responses: [entry, groups, notFound('groups-1')] },
    { name: 'an answer for a request not asked', responses: [entry, groups, { ...groups, id: 'other' }] },
    { name: '"no such user" from the group check only (was read as no groups: an ops member demoted)', responses: [entry, notFound('groups-1')] },
    { name: '"no such user" from the entry only', responses: [notFound('entry-1'), groups] },
    {
      name: 'the entry without its extension attributes (was read as administering no organisation)',
      responses: [{ ...entry, body: { id: PERSON, userPrincipalName: 'priya.okafor@nhsmail.example', displayName: 'Priya Okafor' } }, groups],
    },
  ];
  for (const { name, responses: given } of partial) {
    it(`could not check: ${name}`, async () => {
      responses = given;
      await assert.rejects(lookUp(), { code: 'DIRECTORY_UNAVAILABLE' });
    });
  }

  it('a part that failed fails the look-up at once, without waiting out the other part’s Retry-After', async () => {
    const waits: number[] = [];
    responses = [
      { id: 'entry-1', status: 429, headers: { 'Retry-After': '20' } },
      { id: 'groups-1', status: 500, body: { error: { code: 'generalException' } } },
    ];
    const directory = new GraphDirectory(createGraphClient(graph.url), ATTRIBUTES, async (ms) => void waits.push(ms));
    await assert.rejects(directory.lookUpPerson(PERSON, ['group-a']), { code: 'DIRECTORY_UNAVAILABLE' });
    assert.deepEqual(waits, []);
  });
});

/*
 * Look-ups asked together share a batch (services/directory/graph-directory.ts lookUpPerson),
 * but each person's answer is their own: a part that failed, or answered about someone else,
 * fails that person alone, at once; a batch not answered as a whole fails everyone in it.
 */
describe('people looked up in one batch are answered each on their own', () => {
  const entry = (n: number, id: string) => ({
    id: `entry-${n}`,
    status: 200,
    body: { id, userPrincipalName: `${id}@nhsmail.example`, displayName: id, onPremisesExtensionAttributes: { extensionAttribute1: 'ZZ9001' } },
  });
  const groups = (n: number) => ({ id: `groups-${n}`, status: 200, body: { value: ['group-a'] } });
  let graph: RunningSandbox;
  let rounds: unknown[][];
  before(async () => {
    graph = await startSandbox((request) => (request.path === '/v1.0/$batch' ? { status: 200, body: { responses: rounds.shift() } } : undefined));
  });
  after(() => graph.close());
  beforeEach(() => {
    graph.requests.length = 0;
  });

  const outcomes = (lookUps: Array<Promise<unknown>>) =>
    Promise.all(
      lookUps.map((lookUp) =>
        lookUp.then(
          (facts) => (facts as { administrator: { id: string } }).administrator.id,
          (error: { code?: string }) => error.code,
        ),
      ),
    );

  it('a part that failed, or an entry about someone else, fails that person alone', async () => {
    rounds = [[entry(1, 'amy'), groups(1), entry(2, 'ben'), { id: 'groups-2', status: 500 }, entry(3, 'someone-else'), groups(3), groups(4), entry(4, 'dan')]];
    const directory = new GraphDirectory(createGraphClient(graph.url), ATTRIBUTES, async () => undefined);
    assert.deepEqual(await outcomes(['amy', 'ben', 'cat', 'dan'].map((id) => directory.lookUpPerson(id, ['group-a']))), [
      'amy',
      'DIRECTORY_UNAVAILABLE',
      'DIRECTORY_UNAVAILABLE',
      'dan',
    ]);
    assert.equal(graph.requests.length, 1);
  });

  it('a throttled part is sent again alone, after its Retry-After; a person whose other part failed is not kept waiting for it', async () => {
    let released!: () => void;
    const waited = new Promise<void>((resolve) => (released = resolve));
    rounds = [
      [
        { id: 'entry-1', status: 429, headers: { 'Retry-After': '3' } },
        groups(1),
        { id: 'entry-2', status: 429, headers: { 'Retry-After': '3' } },
        { id: 'groups-2', status: 403, body: { error: { code: 'Authorization_RequestDenied' } } },
      ],
      [entry(1, 'amy')],
    ];
    const waits: number[] = [];
    const directory = new GraphDirectory(createGraphClient(graph.url), ATTRIBUTES, async (ms) => {
      waits.push(ms);
      await waited;
    });
    const amy = directory.lookUpPerson('amy', ['group-a']);
    const ben = directory.lookUpPerson('ben', ['group-a']);
    await assert.rejects(ben, { code: 'DIRECTORY_UNAVAILABLE' }, 'refused while amy waits out her Retry-After');
    assert.deepEqual(waits, [3000]);
    released();
    assert.equal((await amy).administrator?.id, 'amy');
    assert.deepEqual(
      graph.requests.map((request) => (request.body as { requests: Array<{ id: string }> }).requests.map((inner) => inner.id)),
      [['entry-1', 'groups-1', 'entry-2', 'groups-2'], ['entry-1']],
    );
  });

  it('a part Graph keeps throttling fails its person once the rounds run out, never leaving them waiting', async () => {
    const throttled = [{ id: 'entry-1', status: 429, headers: { 'Retry-After': '1' } }, groups(1)];
    rounds = [throttled, [throttled[0]], [throttled[0]], [throttled[0]], [throttled[0]], [throttled[0]]];
    const waits: number[] = [];
    const directory = new GraphDirectory(createGraphClient(graph.url), ATTRIBUTES, async (ms) => void waits.push(ms));
    await assert.rejects(directory.lookUpPerson('amy', ['group-a']), { code: 'DIRECTORY_UNAVAILABLE' });
    assert.equal(graph.requests.length, 5, 'five rounds, then no more');
    assert.deepEqual(waits, [1000, 1000, 1000, 1000]);
  });

  it('an id that cannot be sent fails its own look-up; the others asked in the same moment are answered', async () => {
    rounds = [[entry(1, 'amy'), groups(1)]];
    const directory = new GraphDirectory(createGraphClient(graph.url), ATTRIBUTES, async () => undefined);
    const lone = directory.lookUpPerson('\uD800', ['group-a']);
    const amy = directory.lookUpPerson('amy', ['group-a']);
    await assert.rejects(lone, URIError);
    assert.equal((await amy).administrator?.id, 'amy');
  });

  it('an account look-up with one part refused fails at once, without waiting out another part’s Retry-After', async () => {
    rounds = [
      [
        { id: '1', status: 429, headers: { 'Retry-After': '20' } },
        { id: '2', status: 500, body: { error: { code: 'generalException' } } },
      ],
    ];
    const waits: number[] = [];
    const directory = new GraphDirectory(createGraphClient(graph.url), ATTRIBUTES, async (ms) => void waits.push(ms));
    await assert.rejects(directory.lookupAccounts(['a@nhsmail.example', 'b@nhsmail.example']), { code: 'DIRECTORY_UNAVAILABLE' });
    assert.deepEqual(waits, []);
    assert.equal(graph.requests.length, 1);
  });

  const whole: Array<{ name: string; responses: unknown[] }> = [
    { name: 'an item answered twice', responses: [entry(1, 'amy'), groups(1), entry(2, 'ben'), groups(2), groups(2)] },
    { name: 'an item not answered', responses: [entry(1, 'amy'), groups(1), entry(2, 'ben')] },
    { name: 'an answer for a request not asked', responses: [entry(1, 'amy'), groups(1), entry(2, 'ben'), { ...groups(3) }] },
  ];
  for (const { name, responses } of whole) {
    it(`a batch not answered as a whole fails everyone in it: ${name}`, async () => {
      rounds = [responses];
      const directory = new GraphDirectory(createGraphClient(graph.url), ATTRIBUTES, async () => undefined);
      assert.deepEqual(await outcomes(['amy', 'ben'].map((id) => directory.lookUpPerson(id, ['group-a']))), ['DIRECTORY_UNAVAILABLE', 'DIRECTORY_UNAVAILABLE']);
    });
  }
});
