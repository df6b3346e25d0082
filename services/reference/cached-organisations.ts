import type { OdsLink, OdsSite } from '../eligibility/types';
import type { OrganisationLookup } from './ord-client';
import type { SourceStatus } from './source-status';

/**
 * How long an answer from ODS serves later reads in this process. ODS publishes changes daily at
 * most (NHS Digital, "How to obtain organisation data via the ODS API suite": the API suite gives
 * "more frequent updates (weekly / daily)" than the monthly XML products,
 * https://digital.nhs.uk/services/organisation-data-service/guidance-for-developers/how-to-obtain-organisation-data-via-the-ods-api-suite),
 * so minutes lose nothing a person could see. Without it, each of 100 requesters starting at once
 * read their own organisation's record again (the form's first question names it), each read taking
 * a slot on the shared ODS ledger, a transaction every instance queues on (bench/load.ts, issue 23),
 * and each screening read the same sites again.
 */
export const ODS_ANSWER_TTL_MS = 5 * 60_000;
/** Organisations kept at most, per kind of answer: forgetting one only costs a read. */
const CACHE_LIMIT = 5_000;

interface Kept<T> {
  answer: Promise<T>;
  until: number;
}

/**
 * An OrganisationLookup that asks ODS once for readers at the same moment (they share the read in
 * flight) and keeps what ODS answered for ODS_ANSWER_TTL_MS. Only answers are kept: a failure, or
 * "no such organisation", is asked again by the next reader, so a screening retried after ODS was
 * unwell, or a code just registered, is never held back by this process's memory.
 */
export class CachedOrganisations implements OrganisationLookup {
  private readonly organisations = new Map<string, Kept<OdsSite | null>>();
  private readonly relationships = new Map<string, Kept<OdsLink[]>>();

  constructor(
    private readonly lookup: OrganisationLookup,
    private readonly ttlMs: number = ODS_ANSWER_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  getOrganisation(odsCode: string): Promise<OdsSite | null> {
    return this.kept(
      this.organisations,
      odsCode,
      (code) => this.lookup.getOrganisation(code),
      (site) => site !== null,
    );
  }

  getRelationships(odsCode: string): Promise<OdsLink[]> {
    return this.kept(
      this.relationships,
      odsCode,
      (code) => this.lookup.getRelationships(code),
      () => true,
    );
  }

  status(): SourceStatus {
    return this.lookup.status();
  }

  private kept<T>(cache: Map<string, Kept<T>>, odsCode: string, read: (code: string) => Promise<T>, keep: (answer: T) => boolean): Promise<T> {
    // ODS codes are upper case; the clients read a code in any case as the same organisation.
    const key = odsCode.trim().toUpperCase();
    const held = cache.get(key);
    if (held && held.until > this.now()) return held.answer;
    const answer = read(odsCode);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    // Kept from when the read began, not when it answered: a slow ODS must not stretch how long an answer stands.
    const entry = { answer, until: this.now() + this.ttlMs };
    cache.set(key, entry);
    const forget = () => {
      if (cache.get(key) === entry) cache.delete(key);
    };
    answer.then((value) => keep(value) || forget(), forget);
    return answer;
  }
}
