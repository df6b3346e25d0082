import assert from 'node:assert/strict';
import { AppError } from '../../core/errors';
import type { OdsLink, OdsSite } from '../../services/eligibility/types';
import { CachedOrganisations, ODS_ANSWER_TTL_MS } from '../../services/reference/cached-organisations';
import type { OrganisationLookup } from '../../services/reference/ord-client';
import type { SourceStatus } from '../../services/reference/source-status';

/** An ODS that records every read and answers from what the test put in it, or fails as told. */
class CountingOds implements OrganisationLookup {
  readonly reads: string[] = [];
  readonly sites = new Map<string, OdsSite>();
  links: OdsLink[] = [];
  failing = false;
  /** Reads wait for this before answering, so a test can have several readers at the same moment. */
  gate: Promise<void> = Promise.resolve();

  async getOrganisation(odsCode: string): Promise<OdsSite | null> {
    this.reads.push(`organisation ${odsCode}`);
    await this.gate;
    if (this.failing) throw new AppError('ODS_UNAVAILABLE');
    return this.sites.get(odsCode.trim().toUpperCase()) ?? null;
  }

  async getRelationships(odsCode: string): Promise<OdsLink[]> {
    this.reads.push(`relationships ${odsCode}`);
    await this.gate;
    if (this.failing) throw new AppError('ODS_UNAVAILABLE');
    return this.links;
  }

  status(): SourceStatus {
    return { name: 'ODS', kind: 'test', where: 'here', requests: this.reads.length };
  }
}

const site = (odsCode: string, name: string): OdsSite => ({ odsCode, name, active: true, roleIds: ['RO182'] });

describe('CachedOrganisations (ODS answers kept a few minutes)', () => {
  let ods: CountingOds;
  let clock: number;
  let cached: CachedOrganisations;
  beforeEach(() => {
    ods = new CountingOds();
    ods.sites.set('ZZ9001', site('ZZ9001', 'NORTHMOOR COMMUNITY CARE PARTNERSHIP'));
    clock = 1_000_000;
    cached = new CachedOrganisations(ods, ODS_ANSWER_TTL_MS, () => clock);
  });

  it('readers at the same moment share one read, and later readers within the time are answered without ODS', async () => {
    let open!: () => void;
    ods.gate = new Promise((resolve) => (open = resolve));
    const together = Promise.all([cached.getOrganisation('ZZ9001'), cached.getOrganisation('zz9001 '), cached.getOrganisation('ZZ9001')]);
    open();
    const answers = await together;
    assert.deepEqual(
      answers.map((answer) => answer?.name),
      Array(3).fill('NORTHMOOR COMMUNITY CARE PARTNERSHIP'),
    );
    clock += ODS_ANSWER_TTL_MS - 1;
    assert.equal((await cached.getOrganisation('ZZ9001'))?.odsCode, 'ZZ9001');
    assert.deepEqual(ods.reads, ['organisation ZZ9001']);
  });

  it('asks ODS again once the time is up, and then says what ODS says now', async () => {
    await cached.getOrganisation('ZZ9001');
    ods.sites.set('ZZ9001', { ...site('ZZ9001', 'NORTHMOOR CARE'), active: false });
    clock += ODS_ANSWER_TTL_MS;
    const now = await cached.getOrganisation('ZZ9001');
    assert.equal(now?.name, 'NORTHMOOR CARE');
    assert.equal(now?.active, false);
    assert.equal(ods.reads.length, 2);
  });

  it('keeps no failure: the next reader asks ODS again and gets its answer', async () => {
    ods.failing = true;
    await assert.rejects(cached.getOrganisation('ZZ9001'), (error: unknown) => (error as AppError).code === 'ODS_UNAVAILABLE');
    await assert.rejects(cached.getRelationships('ZZ9001'), (error: unknown) => (error as AppError).code === 'ODS_UNAVAILABLE');
    ods.failing = false;
    assert.equal((await cached.getOrganisation('ZZ9001'))?.name, 'NORTHMOOR COMMUNITY CARE PARTNERSHIP');
    assert.deepEqual(await cached.getRelationships('ZZ9001'), []);
    assert.deepEqual(ods.reads, ['organisation ZZ9001', 'relationships ZZ9001', 'organisation ZZ9001', 'relationships ZZ9001']);
  });

  it('keeps no "no such organisation": a code registered since is found by the next reader', async () => {
    assert.equal(await cached.getOrganisation('ZZ9999'), null);
    ods.sites.set('ZZ9999', site('ZZ9999', 'NEW SITE'));
    assert.equal((await cached.getOrganisation('ZZ9999'))?.name, 'NEW SITE');
    assert.equal(ods.reads.length, 2);
  });

  it('keeps relationships apart from records, each by code', async () => {
    ods.links = [{ relationship: 'RE6', targetOds: 'ZZ8001' }];
    await cached.getRelationships('ZZ9102');
    await cached.getRelationships('ZZ9102');
    await cached.getOrganisation('ZZ9102');
    await cached.getRelationships('ZZ9103');
    assert.deepEqual(ods.reads, ['relationships ZZ9102', 'organisation ZZ9102', 'relationships ZZ9103']);
  });

  it('answers sources with the client’s own status', () => {
    assert.equal(cached.status().kind, 'test');
  });
});
