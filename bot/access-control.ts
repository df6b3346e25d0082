import type { Activity } from 'botbuilder';
import { PEOPLE_PER_BATCH, type Directory, type PersonFacts } from '../services/directory/graph-directory';
import type { RequestViewer } from '../services/request-access';
import { DeadlineExceeded, withDeadline } from '../core/deadline';
import { AppError, findAppError } from '../core/errors';
import type { OrganisationLookup } from '../services/reference/ord-client';
import type { Actor, RequesterContext } from '../services/model';

export interface AccessGroups {
  requesterGroupId: string;
  opsGroupId: string;
}

/**
 * How long a confirmed NAS Operations member is trusted without asking the directory again.
 * An invoke must answer within seconds however slow Graph is, and ops click many buttons in
 * a row; a removal from the group takes effect within this time.
 */
const OPS_MEMBERSHIP_TTL_MS = 60_000;
/**
 * While the directory cannot answer, a confirmation this recent still stands (OPS_MEMBERSHIP_MAX_AGE_MINUTES).
 * Older, the answer is "not now": authorisation fails closed, so a member removed from the
 * group cannot go on deciding for long just because Graph is unwell.
 */
export const DEFAULT_OPS_MEMBERSHIP_MAX_AGE_MS = 5 * 60_000;
/**
 * How long a click waits for the directory. Teams gives an invoke about 15 s,
 * and the Graph client's own retries honour Retry-After for much longer than that.
 */
export const INTERACTIVE_DIRECTORY_MS = 3000;
/**
 * How long a requester's message waits for the directory. Its answer goes to the chat, not into
 * the HTTP response, so no invoke limit applies. Under the load bench (100 requesters starting
 * at once, 2 busy cores) the look-ups took up to 4 s where a quiet instance takes 0.2 s, and 3 s
 * told a quarter of them the directory "could not be reached" when it had not answered yet.
 */
export const MESSAGE_DIRECTORY_MS = 10_000;
/**
 * How long a requester's organisation and roles, once looked up (one Graph batch and ODS), serve
 * their next turns. Removal from the requester group, or a new organisation, takes effect within
 * this time, as an ops member's removal does within OPS_MEMBERSHIP_TTL_MS. Only confirmed answers
 * are kept: a refusal or a directory that could not answer is asked again next turn.
 */
export const REQUESTER_TTL_MS = 60_000;
/**
 * How long "not in NAS Operations" is trusted: a requester's every "help" and greeting asks, and
 * the answer only ever withholds ops rights, so keeping it fails closed. Someone just added to the
 * group is treated as ops within this time.
 */
const NOT_OPS_TTL_MS = 60_000;
/**
 * How long the install welcome waits for the directory to say whether to greet someone as NAS
 * Operations. A quiet directory answers in about 0.2 s; under load (100 requesters adding the bot
 * at once, bench/load.ts) it took seconds, and the welcome is the first thing a person sees.
 * Past it, the requester's welcome goes, saying where NAS Operations' commands are.
 */
export const WELCOME_DIRECTORY_MS = 500;
/** Cached people at most, per cache: forgetting one only costs a look-up. */
const CACHE_LIMIT = 1000;
/**
 * Warm-ups (a new chat's requester looked up before anyone needs it) in flight at once, per
 * instance; the rest queue. Unqueued, fifty chats beginning at once started fifty look-ups at
 * once, and their answers, all arriving together, held the next turns of every chat
 * (bench/turns.ts, when a look-up was two calls: the 95th percentile at 50 chats went from 1.3 to
 * 2.1 times the bare bot's). Queued, they go between turns instead, and Graph, which throttles an
 * app that opens too many requests at once, sees at most this many people's look-ups (two requests
 * each) from the warm-ups, WARM_UPS_OPEN_AT_MOST while some are past their deadline. Look-ups
 * started in the same moment share a Graph batch (GraphDirectory.lookUpPerson): a burst's first
 * places go as one batch, and later ones in batches as small as the places freed together. So a
 * place each for one batch's people: with four places, 200 new chats on PostgreSQL cost 4.86-4.93
 * ms of the bot's CPU a turn; with ten, 4.47 (scratch profile on Node 20, 10 turns each, the bare
 * bot about 4.0-4.2). Only warm-ups wait: a turn that needs the answer asks at once (and a queued
 * warm-up then finds it).
 */
export const WARM_UPS_AT_ONCE = PEOPLE_PER_BATCH;
/** Warm-ups not yet ended, those past their deadline included: what Graph may see of them at once, however slow it is. */
const WARM_UPS_OPEN_AT_MOST = 2 * WARM_UPS_AT_ONCE;

/** Who may do what, decided from directory group membership, never from the client. */
export class AccessControl {
  private readonly confirmedOps = new Map<string, { actor: Actor; until: number; staleUntil: number }>();
  private readonly notOps = new Map<string, number>();
  private readonly requesters = new Map<string, { context: Promise<RequesterContext>; until: number }>();
  /** Directory look-ups in flight, one per person, and when each began: the ops check and the requester check share one. */
  private readonly lookingUp = new Map<string, { facts: Promise<PersonFacts>; began: number }>();
  /** Words only (knownOpsMember): the directory's last answer about NAS Operations per person, of any age. */
  private readonly opsLastSaid = new Map<string, boolean>();
  /** Each person's last look-up that answered, and when it began: what a queued warm-up finds if someone asked meanwhile. */
  private readonly lastAnswered = new Map<string, { facts: PersonFacts; began: number }>();
  /** Warm-ups holding a place (at most WARM_UPS_AT_ONCE), those not yet ended (WARM_UPS_OPEN_AT_MOST), and those waiting, by person, with when each was asked. */
  private warmUpsRunning = 0;
  private warmUpsOpen = 0;
  private readonly warmUpsWaiting = new Map<string, number>();

  constructor(
    private readonly directory: Directory,
    private readonly organisations: OrganisationLookup,
    private readonly groups: AccessGroups & {
      opsChannelId?: string;
      opsMembershipMaxAgeMinutes?: number;
      /** How long a warm-up holds its place (MESSAGE_DIRECTORY_MS unless set: tests shorten it). */
      warmUpDeadlineMs?: number;
    },
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Who is looking, for requestAccess (services/request-access.ts): a confirmed NAS
   * Operations member, someone in the ops channel (where the cards are), or anyone else.
   * A directory that cannot confirm membership makes a viewer outside the channel a
   * refusal ("not now"), and one inside it a read-only viewer: never more than they had.
   */
  async viewer(activity: Pick<Activity, 'from' | 'conversation'>): Promise<RequestViewer> {
    const inOpsChannel = this.isOpsChannel(activity);
    try {
      return { kind: 'ops', actor: await this.opsMember(activity.from?.aadObjectId) };
    } catch (error) {
      const code = findAppError(error)?.code;
      if (code !== 'NOT_OPS' && !(inOpsChannel && code === 'OPS_UNCONFIRMED')) throw error;
    }
    return inOpsChannel ? { kind: 'ops-channel' } : { kind: 'person', userId: activity.from?.aadObjectId };
  }

  /** The activity came from the NAS Operations channel (the channel itself or a thread in it), as Teams addresses it. */
  isOpsChannel(activity: Pick<Activity, 'conversation'>): boolean {
    const conversation = activity.conversation;
    if (!this.groups.opsChannelId || !conversation || conversation.conversationType !== 'channel') return false;
    return conversation.id.split(';')[0] === this.groups.opsChannelId;
  }

  async requester(userId: string | undefined): Promise<RequesterContext> {
    if (!userId) throw new AppError('NOT_AN_ADMINISTRATOR');
    return interactive(this.cachedRequester(userId), MESSAGE_DIRECTORY_MS);
  }

  /**
   * Starts the requester look-up off the turn (when their chat first becomes known, before they
   * type "new transfer"), so the form's first question finds it done. Failures are dropped: the
   * turn that needs the answer asks again, and fails closed as ever.
   */
  warmRequester(userId: string | undefined): void {
    if (!userId || this.confirmedRequester(userId) || this.warmUpsWaiting.has(userId)) return;
    if (this.warmUpsWaiting.size < CACHE_LIMIT) this.warmUpsWaiting.set(userId, this.now());
    this.startWarmUps();
  }

  /** Starts the longest-waiting warm-ups while there is a place and Graph has few enough of ours open. */
  private startWarmUps(): void {
    while (this.warmUpsRunning < WARM_UPS_AT_ONCE && this.warmUpsOpen < WARM_UPS_OPEN_AT_MOST) {
      const [next] = this.warmUpsWaiting;
      if (!next) return;
      const [userId, asked] = next;
      this.warmUpsWaiting.delete(userId);
      if (this.confirmedRequester(userId)) continue;
      const lookUp = this.cachedRequester(userId, asked);
      this.warmUpsRunning++;
      this.warmUpsOpen++;
      let holdsPlace = true;
      const moveOn = () => {
        if (holdsPlace) this.warmUpsRunning--;
        holdsPlace = false;
        this.startWarmUps();
      };
      // Graph's client has no deadline of its own: a hung look-up gives up its place after warmUpDeadlineMs, but counts
      // as open until it ends, so a slow or throttling Graph never has more than WARM_UPS_OPEN_AT_MOST of them at once.
      withDeadline(lookUp, this.groups.warmUpDeadlineMs ?? MESSAGE_DIRECTORY_MS)
        .catch(() => undefined)
        .finally(moveOn);
      lookUp
        .catch(() => undefined)
        .finally(() => {
          this.warmUpsOpen--;
          moveOn();
        });
    }
  }

  /** Warm-ups queued or not yet ended: for the turn bench, which counts them in the run that started them. */
  warmUpsBusy(): boolean {
    return this.warmUpsWaiting.size > 0 || this.warmUpsOpen > 0;
  }

  /** A requester look-up confirmed within REQUESTER_TTL_MS, or in flight. */
  private confirmedRequester(userId: string): boolean {
    return (this.requesters.get(userId)?.until ?? 0) > this.now();
  }

  /**
   * What the directory last told this process about the person and NAS Operations, however long
   * ago, without asking anyone: for what only words depend on (which help to show), so a quiet turn
   * never waits for Graph. Undefined when nobody has asked since the process started; a look-up
   * then starts off the turn, so the next turn knows. Anything that acts asks opsMember, which
   * asks the directory and fails closed.
   */
  knownOpsMember(userId: string | undefined): boolean | undefined {
    if (!userId) return false;
    const lastSaid = this.opsLastSaid.get(userId);
    if (lastSaid === undefined) this.warmRequester(userId);
    return lastSaid;
  }

  /**
   * knownOpsMember, waiting for the directory at most `ms` when nobody has asked yet: for the words
   * of a first impression (the install welcome), which a person waits for. Undefined when the
   * directory has not answered in time or could not answer; the look-up goes on, so the next turn knows.
   */
  async opsMemberWithin(userId: string | undefined, ms: number): Promise<boolean | undefined> {
    const known = this.knownOpsMember(userId);
    if (known !== undefined || !userId) return known;
    return withDeadline(this.isOpsMember(userId), ms).catch(() => undefined);
  }

  /**
   * Both groups and the person's directory entry in one look-up (one Graph batch: the entry and
   * checkMemberGroups, which takes up to 20 group ids), shared by whoever asks while it is in
   * flight: a new chat's first turn warms the requester look-up and its "help" asks about NAS
   * Operations, and the two cost one look-up.
   * What it says about NAS Operations is kept for the ops checks whoever asked.
   */
  private personFacts(userId: string): Promise<PersonFacts> {
    // Joined only while young: Graph's client has no deadline of its own, and a look-up hung on one request must not
    // hold every later check of the person, nor stretch how long an answer stands (REQUESTER_TTL_MS counts from its start).
    const inFlight = this.lookingUp.get(userId);
    if (inFlight && this.now() - inFlight.began < INTERACTIVE_DIRECTORY_MS) return inFlight.facts;
    const began = this.now();
    const lookUp = this.directory.lookUpPerson(userId, [this.groups.requesterGroupId, this.groups.opsGroupId]).then(({ groups, administrator }) => {
      this.learnOps(userId, groups.has(this.groups.opsGroupId) && administrator ? { id: administrator.id, name: administrator.displayName } : null);
      if (this.lastAnswered.size >= CACHE_LIMIT) this.lastAnswered.clear();
      this.lastAnswered.set(userId, { facts: { groups, administrator }, began });
      return { groups, administrator };
    });
    this.lookingUp.set(userId, { facts: lookUp, began });
    const done = () => {
      if (this.lookingUp.get(userId)?.facts === lookUp) this.lookingUp.delete(userId);
    };
    lookUp.then(done, done);
    return lookUp;
  }

  /** Keeps what the directory said about NAS Operations: a member for OPS_MEMBERSHIP_TTL_MS, anyone else for NOT_OPS_TTL_MS. */
  private learnOps(userId: string, actor: Actor | null): void {
    if (this.opsLastSaid.size >= CACHE_LIMIT) this.opsLastSaid.clear();
    this.opsLastSaid.set(userId, actor !== null);
    if (!actor) {
      this.confirmedOps.delete(userId);
      if (this.notOps.size >= CACHE_LIMIT) this.notOps.clear();
      this.notOps.set(userId, this.now() + NOT_OPS_TTL_MS);
      return;
    }
    this.notOps.delete(userId);
    if (this.confirmedOps.size >= CACHE_LIMIT) this.confirmedOps.clear();
    const maxAgeMs = this.groups.opsMembershipMaxAgeMinutes === undefined ? DEFAULT_OPS_MEMBERSHIP_MAX_AGE_MS : this.groups.opsMembershipMaxAgeMinutes * 60_000;
    this.confirmedOps.set(userId, { actor, until: this.now() + Math.min(OPS_MEMBERSHIP_TTL_MS, maxAgeMs), staleUntil: this.now() + maxAgeMs });
  }

  /** The look-up in flight or confirmed within REQUESTER_TTL_MS, else a new one; concurrent turns share it. */
  private cachedRequester(userId: string, answeredSince?: number): Promise<RequesterContext> {
    const cached = this.requesters.get(userId);
    if (cached && cached.until > this.now()) return cached.context;
    // A queued warm-up (answeredSince: when it was asked) takes an answer begun since then, such as the install welcome's
    // ops check, and counts REQUESTER_TTL_MS from when that began.
    const answered = this.lastAnswered.get(userId);
    const reused =
      answeredSince !== undefined && answered && answered.began >= answeredSince && answered.began + REQUESTER_TTL_MS > this.now() ? answered : undefined;
    const context = this.lookUpRequester(userId, reused?.facts);
    if (this.requesters.size >= CACHE_LIMIT) this.requesters.clear();
    this.requesters.set(userId, { context, until: (reused?.began ?? this.now()) + REQUESTER_TTL_MS });
    // Only a confirmed requester is kept, and only until REQUESTER_TTL_MS after the look-up began (not after
    // it answered: a slow directory must not stretch how long a removal goes unseen). A refusal or a
    // failure is forgotten, and asked again.
    context.catch(() => this.requesters.get(userId)?.context === context && this.requesters.delete(userId));
    return context;
  }

  private async lookUpRequester(userId: string, facts?: PersonFacts): Promise<RequesterContext> {
    const { groups, administrator } = facts ?? (await this.personFacts(userId));
    if (!groups.has(this.groups.requesterGroupId) || !administrator) throw new AppError('NOT_AN_ADMINISTRATOR');
    if (!administrator.organisationOds) throw new AppError('NO_ADMINISTERED_ORGANISATION');
    const organisation = await this.organisations.getOrganisation(administrator.organisationOds);
    return {
      id: administrator.id,
      name: administrator.displayName,
      organisationOds: administrator.organisationOds,
      organisationName: organisation ? titleCase(organisation.name) : administrator.organisationOds,
    };
  }

  /** The actor's name comes from the directory, not from the activity, so the audit trail names the real person. */
  async opsMember(userId: string | undefined): Promise<Actor> {
    if (!userId) throw new AppError('NOT_OPS');
    const confirmed = this.confirmedOps.get(userId);
    if (confirmed && confirmed.until > this.now()) return confirmed.actor;
    if ((this.notOps.get(userId) ?? 0) > this.now()) throw new AppError('NOT_OPS');
    const lookUp = this.lookUpOps(userId);
    try {
      return await interactive(lookUp);
    } catch (error) {
      if (findAppError(error)?.code !== 'DIRECTORY_UNAVAILABLE') throw error;
      // A directory that cannot answer: a recent confirmation stands (the look-up carries on and refreshes it); an older one does not.
      if (confirmed && confirmed.staleUntil > this.now()) return confirmed.actor;
      throw new AppError('OPS_UNCONFIRMED', undefined, { cause: error });
    }
  }

  async isOpsMember(userId: string | undefined): Promise<boolean> {
    if (!userId) return false;
    try {
      await this.opsMember(userId);
      return true;
    } catch (error) {
      if (findAppError(error)?.code === 'NOT_OPS') return false;
      throw error;
    }
  }

  private async lookUpOps(userId: string): Promise<Actor> {
    const { groups, administrator } = await this.personFacts(userId);
    if (!groups.has(this.groups.opsGroupId) || !administrator) throw new AppError('NOT_OPS');
    return { id: administrator.id, name: administrator.displayName };
  }
}

/** A directory answer for someone waiting in Teams: in time, or DIRECTORY_UNAVAILABLE. */
async function interactive<T>(lookUp: Promise<T>, deadlineMs = INTERACTIVE_DIRECTORY_MS): Promise<T> {
  // The look-up may still settle after the deadline; its result (or error) is then only cached or dropped.
  lookUp.catch(() => undefined);
  try {
    return await withDeadline(lookUp, deadlineMs);
  } catch (error) {
    if (error instanceof DeadlineExceeded) throw new AppError('DIRECTORY_UNAVAILABLE', undefined, { cause: error });
    throw error;
  }
}

/** ODS publishes names in capitals; people read them better in title case. */
export function titleCase(name: string): string {
  return name.toLowerCase().replace(/\b([a-z])/g, (letter) => letter.toUpperCase());
}
