import type { Client } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import { AppError } from '../../core/errors';
import { retryAfterSeconds } from '../../core/retry-after';
import type { DirectoryAccount } from '../eligibility/types';
import { mapWithConcurrency } from '../concurrency';

export interface DirectoryAttributePaths {
  organisation: string;
  site: string;
  leaver: string;
  leaverValue: string;
}

export interface Administrator {
  id: string;
  displayName: string;
  userPrincipalName: string;
  organisationOds?: string;
}

/** What the directory says about one person: which of the groups asked about they are in, and their entry (null: no such user). */
export interface PersonFacts {
  groups: Set<string>;
  administrator: Administrator | null;
}

/** What the bot needs from the directory; the Graph implementation is below. */
export interface Directory {
  lookupAccounts(emails: readonly string[]): Promise<Map<string, DirectoryAccount | null>>;
  /** The person's entry and their membership of `groupIds` (at most 20, checkMemberGroups' limit), answered together. */
  lookUpPerson(userId: string, groupIds: readonly string[]): Promise<PersonFacts>;
}

/** One request inside a JSON batch; a body needs its Content-Type (https://learn.microsoft.com/graph/json-batching). */
interface BatchItem {
  id: string;
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Graph allows at most 20 requests in one JSON batch. */
export const GRAPH_BATCH_LIMIT = 20;
/** People in one person look-up batch: two requests each (the entry and checkMemberGroups). */
export const PEOPLE_PER_BATCH = GRAPH_BATCH_LIMIT / 2;
/** Batches sent at once: enough to hide latency, few enough not to invite throttling. */
export const BATCHES_IN_FLIGHT = 4;
const MAX_THROTTLE_ROUNDS = 5;
const MAX_RETRY_AFTER_SECONDS = 30;

const batchResponseSchema = z.object({
  responses: z.array(
    z.object({
      id: z.string(),
      status: z.number(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
  ),
});

const graphUserSchema = z
  .object({
    id: z.string(),
    userPrincipalName: z.string(),
    displayName: z.string().nullish(),
    givenName: z.string().nullish(),
    surname: z.string().nullish(),
    accountEnabled: z.boolean().nullish(),
    mobilePhone: z.string().nullish(),
    jobTitle: z.string().nullish(),
    department: z.string().nullish(),
    otherMails: z.array(z.string()).nullish(),
    proxyAddresses: z.array(z.string()).nullish(),
  })
  .passthrough();

/**
 * The Graph user fields the eligibility rules read, and no others: names (generic accounts),
 * accountEnabled, mobilePhone (UK mobile), jobTitle and department (direct patient care),
 * otherMails and proxyAddresses (centrally funded email).
 */
export const ACCOUNT_FIELDS = [
  'id',
  'userPrincipalName',
  'displayName',
  'givenName',
  'surname',
  'accountEnabled',
  'mobilePhone',
  'jobTitle',
  'department',
  'otherMails',
  'proxyAddresses',
] as const;

const memberGroupsSchema = z.object({ value: z.array(z.string()) });

/**
 * Graph answers every property named in $select, null when it holds no value (Microsoft Learn,
 * "Use the $select query parameter"; onPremisesExtensionAttributes "returns 15 custom extension
 * attribute properties", each null when unset:
 * https://learn.microsoft.com/graph/api/resources/onpremisesextensionattributes). A selected
 * property missing from the answer, or a collection or flag answered null, is an answer in
 * part: it is never read as "no value" (a missing accountEnabled was read as enabled, a missing
 * leaver attribute as not a leaver, missing otherMails as none), so the look-up fails.
 */
const NEVER_NULL: ReadonlySet<string> = new Set(['id', 'userPrincipalName', 'accountEnabled', 'otherMails', 'proxyAddresses']);
/** Graph's code for a user that does not exist (a 404 with any other code is not "not found"). */
const USER_NOT_FOUND_CODE = 'Request_ResourceNotFound';
const notFoundSchema = z.object({ error: z.object({ code: z.literal(USER_NOT_FOUND_CODE) }) });

const ANSWERED_IN_PART = 'The directory answered in part, so its answer was not used.';

/** A person look-up waiting for its batch. */
interface PersonAsked {
  userId: string;
  /** `/users/{id}`, encoded. */
  userPath: string;
  groupIds: readonly string[];
  resolve: (facts: PersonFacts) => void;
  reject: (error: unknown) => void;
}

export class GraphDirectory implements Directory {
  private readonly accountFields: string[];
  /** The property paths every user answer must carry (see NEVER_NULL). */
  private readonly requiredPaths: string[];
  /** Person look-ups asked since the last batch went (see lookUpPerson). */
  private readonly peopleAsked: PersonAsked[] = [];
  private peopleAskedQueued = false;

  constructor(
    private readonly client: Client,
    private readonly attributes: DirectoryAttributePaths,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    // Only the fields an eligibility rule reads.
    const attributeRoots = [attributes.organisation, attributes.site, attributes.leaver].map((attributePath) => attributePath.split('.')[0] as string);
    this.accountFields = [...new Set([...ACCOUNT_FIELDS, ...attributeRoots])];
    this.requiredPaths = [
      ...ACCOUNT_FIELDS,
      ...[attributes.organisation, attributes.site, attributes.leaver].filter((attributePath) => attributePath.includes('.')),
    ];
  }

  /** Every selected property is in the answer, and none that Graph always fills is null. */
  private answeredWhole(body: unknown): boolean {
    if (!this.requiredPaths.every((propertyPath) => present(body, propertyPath))) return false;
    return [...NEVER_NULL].every((field) => (body as Record<string, unknown>)[field] !== null);
  }

  async lookupAccounts(emails: readonly string[]): Promise<Map<string, DirectoryAccount | null>> {
    const unique = [...new Set(emails.map((email) => email.toLowerCase()))];
    const chunks: string[][] = [];
    for (let start = 0; start < unique.length; start += GRAPH_BATCH_LIMIT) chunks.push(unique.slice(start, start + GRAPH_BATCH_LIMIT));
    const results = new Map<string, DirectoryAccount | null>();
    await mapWithConcurrency(chunks, BATCHES_IN_FLIGHT, async (chunk) => {
      for (const [email, account] of await this.lookupBatch(chunk)) results.set(email, account);
    });
    return results;
  }

  /**
   * The person's entry (their administered organisation) and checkMemberGroups, in a JSON batch:
   * one HTTP request where two cost the bot twice the CPU (the SDK's middleware, fetch, parsing)
   * on every new chat's first turn. Look-ups asked in the same moment (new chats arriving
   * together, the warm-ups started together) share batches, PEOPLE_PER_BATCH to a batch: in a
   * profile of 200 new chats at once, a look-up's own HTTP request (fetch and its streams, and
   * their garbage) was about half of what a new chat cost the bot beyond a known one. Each person's
   * answer stands on its own: "no such user" (Graph's 404 Request_ResourceNotFound) is no entry
   * and no groups; any other failure, a throttle that never ends, or an answer missing or in
   * part, is DIRECTORY_UNAVAILABLE for that person, and access fails closed. A batch Graph did
   * not answer as a whole fails everyone in it.
   */
  lookUpPerson(userId: string, groupIds: readonly string[]): Promise<PersonFacts> {
    return new Promise<PersonFacts>((resolve, reject) => {
      // Encoded here, so an id that cannot be (a lone surrogate) fails its own look-up, not the batch it would join.
      this.peopleAsked.push({ userId, userPath: `/users/${encodeURIComponent(userId)}`, groupIds, resolve, reject });
      if (this.peopleAsked.length >= PEOPLE_PER_BATCH) this.sendPeopleAsked();
      else if (!this.peopleAskedQueued) {
        this.peopleAskedQueued = true;
        // The end of the event loop's turn: the requests that reached the bot in the same moment have asked by then.
        setImmediate(() => {
          this.peopleAskedQueued = false;
          this.sendPeopleAsked();
        });
      }
    });
  }

  private sendPeopleAsked(): void {
    while (this.peopleAsked.length > 0) void this.lookUpPeople(this.peopleAsked.splice(0, PEOPLE_PER_BATCH));
  }

  /**
   * One batch for `people`: each settles as soon as both its parts have answered, or one has
   * failed. A person whose part Graph throttled waits, with the others throttled in the batch,
   * for the longest Retry-After among them; a turn waiting for the answer has its own deadline.
   */
  private async lookUpPeople(people: PersonAsked[]): Promise<void> {
    const select = [...new Set(['id', 'displayName', 'userPrincipalName', this.attributes.organisation.split('.')[0] as string])];
    // Whose request each item of the batch is, and which of their two.
    const partOf = new Map<string, { person: PersonAsked; part: 'entry' | 'groups' }>();
    const items: BatchItem[] = people.flatMap((person, index) => {
      const [entry, groups] = [`entry-${index + 1}`, `groups-${index + 1}`];
      partOf.set(entry, { person, part: 'entry' }).set(groups, { person, part: 'groups' });
      return [
        { id: entry, method: 'GET' as const, url: `${person.userPath}?$select=${select.join(',')}` },
        {
          id: groups,
          method: 'POST' as const,
          url: `${person.userPath}/checkMemberGroups`,
          body: { groupIds: person.groupIds },
          headers: { 'Content-Type': 'application/json' },
        },
      ];
    });
    const answered = new Map<PersonAsked, { entry?: BatchAnswer; groups?: BatchAnswer }>();
    const settled = new Set<PersonAsked>();
    const settle = (person: PersonAsked, facts: () => PersonFacts) => {
      settled.add(person);
      try {
        person.resolve(facts());
      } catch (error) {
        person.reject(error);
      }
    };
    const fail = (person: PersonAsked, error: unknown) =>
      settle(person, () => {
        throw error;
      });
    try {
      await this.batchEach(
        items,
        (id, answer) => {
          const { person, part } = partOf.get(id)!;
          if (settled.has(person)) return;
          if (answer instanceof AppError) return fail(person, answer);
          const parts = { ...answered.get(person), [part]: answer };
          answered.set(person, parts);
          if (parts.entry && parts.groups) settle(person, () => this.toPersonFacts(parts.entry!, parts.groups!, person));
        },
        (id) => !settled.has(partOf.get(id)!.person),
      );
      // Every item is settled by now; should one not be, its person is refused rather than left waiting.
      for (const person of people) if (!settled.has(person)) fail(person, new AppError('DIRECTORY_UNAVAILABLE', ANSWERED_IN_PART));
    } catch (error) {
      for (const person of people) if (!settled.has(person)) fail(person, error);
    }
  }

  /** A person's two answers read together. */
  private toPersonFacts(entry: BatchAnswer, memberOf: BatchAnswer, { userId, groupIds }: PersonAsked): PersonFacts {
    const unknown = notFound(entry);
    // "No such user" from one part and an answer from the other (a replica behind, a user just made or removed) is no
    // answer about the person: read as "no groups" it would demote an ops member for a minute instead of "cannot confirm".
    if (notFound(memberOf) !== unknown) throw new AppError('DIRECTORY_UNAVAILABLE', ANSWERED_IN_PART);
    if (unknown) return { groups: new Set(), administrator: null };
    const asked = new Set(groupIds);
    return {
      groups: new Set(parseBody(okBody(memberOf), memberGroupsSchema).value.filter((id) => asked.has(id))),
      administrator: this.toAdministrator(okBody(entry), userId),
    };
  }

  /** The person's entry as Graph answered it: refused when it is about anyone else (looked up by object id, or in tests by address). */
  private toAdministrator(body: unknown, userId: string): Administrator {
    const user = parseBody(body, graphUserSchema);
    const asked = userId.toLowerCase();
    if (user.id.toLowerCase() !== asked && user.userPrincipalName.toLowerCase() !== asked) throw new AppError('DIRECTORY_UNAVAILABLE', ANSWERED_IN_PART);
    // The organisation attribute inside a complex property (onPremisesExtensionAttributes.…) is always answered, null when
    // unset: missing, it is an answer in part, not "administers no organisation" (see present()).
    if (this.attributes.organisation.includes('.') && !present(body, this.attributes.organisation))
      throw new AppError('DIRECTORY_UNAVAILABLE', ANSWERED_IN_PART);
    return {
      id: user.id,
      displayName: user.displayName ?? user.userPrincipalName,
      userPrincipalName: user.userPrincipalName,
      organisationOds: readString(body, this.attributes.organisation)?.toUpperCase(),
    };
  }

  private async lookupBatch(emails: string[]): Promise<Map<string, DirectoryAccount | null>> {
    const items = emails.map((email, index) => ({
      id: String(index + 1),
      method: 'GET' as const,
      url: `/users/${encodeURIComponent(email)}?$select=${this.accountFields.join(',')}`,
    }));
    const answers = await this.batch(items);
    const found = new Map<string, DirectoryAccount | null>();
    emails.forEach((email, index) => {
      const answer = answers.get(String(index + 1))!;
      found.set(email, notFound(answer) ? null : this.toAccount(okBody(answer), email));
    });
    return found;
  }

  /** A JSON batch (at most GRAPH_BATCH_LIMIT items), every item answered; the first item that failed fails it at once. */
  private async batch(items: readonly BatchItem[]): Promise<Map<string, BatchAnswer>> {
    const answered = new Map<string, BatchAnswer>();
    let failure: AppError | undefined;
    await this.batchEach(
      items,
      (id, answer) => {
        if (answer instanceof AppError) failure ??= answer;
        else answered.set(id, answer);
      },
      // Any failure fails the look-up now, not after the other requests' Retry-After.
      () => failure === undefined,
    );
    if (failure) throw failure;
    return answered;
  }

  /**
   * A JSON batch (at most GRAPH_BATCH_LIMIT items), each item's answer given to `settle` as it
   * comes: a 2xx or a 404 as answered; any other status as DIRECTORY_UNAVAILABLE. Those Graph
   * throttled (429, 503) are sent again after the longest Retry-After, while `wanted`, for
   * MAX_THROTTLE_ROUNDS rounds at most, then fail. Throws DIRECTORY_UNAVAILABLE when the batch
   * was not answered as a whole: no answer, one it cannot read, or an item answered twice, not
   * at all, or not asked.
   */
  private async batchEach(
    items: readonly BatchItem[],
    settle: (id: string, answer: BatchAnswer | AppError) => void,
    wanted: (id: string) => boolean,
  ): Promise<void> {
    let pending = items;
    for (let round = 0; pending.length > 0; round++) {
      if (round === MAX_THROTTLE_ROUNDS) {
        for (const item of pending) settle(item.id, new AppError('DIRECTORY_UNAVAILABLE', 'The directory kept throttling the look-ups.'));
        return;
      }
      let body: unknown;
      try {
        body = await this.client.api('/$batch').post({ requests: pending });
      } catch (error) {
        throw new AppError('DIRECTORY_UNAVAILABLE', undefined, { cause: error });
      }
      const parsed = parseBody(body, batchResponseSchema);
      // One answer per request: two answers for one id (found and not found) cannot both be true.
      const ids = parsed.responses.map((response) => response.id);
      if (new Set(ids).size !== ids.length) throw new AppError('DIRECTORY_UNAVAILABLE', ANSWERED_IN_PART);
      // An answer for a request not asked is an answer about something else: the batch is not read.
      if (ids.length !== pending.length) throw new AppError('DIRECTORY_UNAVAILABLE', ANSWERED_IN_PART);
      const byId = new Map(parsed.responses.map((response) => [response.id, response]));
      if (pending.some((item) => !byId.has(item.id))) throw new AppError('DIRECTORY_UNAVAILABLE', ANSWERED_IN_PART);
      const throttled: BatchItem[] = [];
      let waitSeconds = 0;
      for (const item of pending) {
        const response = byId.get(item.id)!;
        if (response.status === 429 || response.status === 503) {
          throttled.push(item);
          waitSeconds = Math.max(waitSeconds, retryAfterSeconds(headerValue(response.headers, 'retry-after')) ?? 1);
        } else if ((response.status >= 200 && response.status < 300) || response.status === 404) settle(item.id, response);
        else settle(item.id, new AppError('DIRECTORY_UNAVAILABLE'));
      }
      pending = throttled.filter((item) => wanted(item.id));
      // No wait before the round that only gives up.
      if (pending.length > 0 && round + 1 < MAX_THROTTLE_ROUNDS) await this.sleep(Math.min(waitSeconds, MAX_RETRY_AFTER_SECONDS) * 1000);
    }
  }

  /** The account `email` as Graph answered it: refused when the answer is in part, or about someone else. */
  private toAccount(body: unknown, email: string): DirectoryAccount {
    const user = parseBody(body, graphUserSchema);
    // Looked up by user principal name: an answer about anyone else would screen their facts under this address.
    if (user.userPrincipalName.toLowerCase() !== email.toLowerCase()) throw new AppError('DIRECTORY_UNAVAILABLE', ANSWERED_IN_PART);
    if (!this.answeredWhole(body)) throw new AppError('DIRECTORY_UNAVAILABLE', ANSWERED_IN_PART);
    const leaverFlag = readString(body, this.attributes.leaver);
    return {
      id: user.id,
      userPrincipalName: user.userPrincipalName,
      displayName: user.displayName ?? undefined,
      givenName: user.givenName ?? undefined,
      surname: user.surname ?? undefined,
      accountEnabled: user.accountEnabled === true,
      mobilePhone: user.mobilePhone ?? undefined,
      jobTitle: user.jobTitle?.trim() || undefined,
      department: user.department?.trim() || undefined,
      otherMails: user.otherMails!,
      proxyAddresses: user.proxyAddresses!,
      organisationOds: readString(body, this.attributes.organisation)?.toUpperCase(),
      siteOds: readString(body, this.attributes.site)?.toUpperCase(),
      markedAsLeaver: leaverFlag !== undefined && leaverFlag.toLowerCase() === this.attributes.leaverValue.toLowerCase(),
    };
  }
}

/**
 * Whether a property path is in the answer at all (null counts: Graph's "no value"). A
 * directory extension at the top level (extension_<app id>_<name>) is left out by Graph when
 * it has no value, so only paths into a complex property (onPremisesExtensionAttributes.…)
 * must be there.
 */
function present(source: unknown, propertyPath: string): boolean {
  let value: unknown = source;
  for (const segment of propertyPath.split('.')) {
    if (value === null || typeof value !== 'object' || !(segment in value)) return false;
    value = (value as Record<string, unknown>)[segment];
  }
  return true;
}

function readString(source: unknown, attributePath: string): string | undefined {
  let value: unknown = source;
  for (const segment of attributePath.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A header of a $batch response, whose names arrive in any case. */
function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  return Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];
}

type BatchAnswer = z.infer<typeof batchResponseSchema>['responses'][number];

/**
 * Graph's "no such user": a 404 with Request_ResourceNotFound. Another 404 (a wrong path, a
 * gateway) is not an answer about the person, so it is DIRECTORY_UNAVAILABLE, as any other failure.
 */
function notFound(answer: BatchAnswer): boolean {
  if (answer.status !== 404) return false;
  if (!notFoundSchema.safeParse(answer.body).success) throw new AppError('DIRECTORY_UNAVAILABLE');
  return true;
}

/** A 2xx answer's body; any other status is DIRECTORY_UNAVAILABLE. */
function okBody(answer: BatchAnswer): unknown {
  if (answer.status < 200 || answer.status >= 300) throw new AppError('DIRECTORY_UNAVAILABLE');
  return answer.body;
}

/** A body as `schema` reads it; one it cannot read is DIRECTORY_UNAVAILABLE, never a guess. */
function parseBody<T extends z.ZodTypeAny>(body: unknown, schema: T): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new AppError('DIRECTORY_UNAVAILABLE');
  return parsed.data;
}
