import assert from 'node:assert/strict';
import type { ScreenedAccount, ScreeningResult } from '../../services/eligibility/types';
import type { SqlDatabase, SqlExecutor } from '../../services/store/database';
import { dedupeKeys } from '../../services/store/outbox';
import { RESULT_CHUNK_ACCOUNTS, ScreeningJobs, type NewScreeningJob } from '../../services/store/screening-jobs';
import { describeOnEachDatabase } from '../support/databases';
import { screenedAccount } from '../support/fixtures';

/** The form's limit. */
const LIST = 500;

function job(id: string): NewScreeningJob {
  return {
    id,
    ownerId: 'owner-oid',
    organisationOds: 'ZZ9001',
    organisationName: 'Northmoor',
    entries: Array.from({ length: LIST }, (_, index) => ({ position: index + 1, email: `listed.${index}@nhsmail.example` })),
  };
}

/** A screening result for the list, every account with its own evidence; `verdict` tells two screenings apart. */
function result(verdict: ScreenedAccount['verdict']): ScreeningResult {
  return {
    policyVersion: '2026.11-1',
    accounts: Array.from({ length: LIST }, (_, index) => ({
      ...screenedAccount(index + 1, `listed.${index}@nhsmail.example`, verdict),
      evidence: { directoryFound: true, displayName: `Listed ${index}`, jobTitle: 'Pharmacist', siteOds: 'ZZ9101' },
    })),
  };
}

/** `db`, with every statement's text parameters measured, and the statements that match `failing` refused after `allowed` of them. */
function watched(db: SqlDatabase, failing?: { matches: RegExp; allowed: number }) {
  const statements: Array<{ sql: string; parameterChars: number }> = [];
  let matched = 0;
  const executor = (inner: SqlExecutor): SqlExecutor => ({
    query: (sql, params) => {
      if (failing?.matches.test(sql) && ++matched > failing.allowed) return Promise.reject(new Error('the database went away'));
      const parameterChars = (params ?? []).reduce<number>((sum, param) => sum + (typeof param === 'string' ? param.length : 0), 0);
      statements.push({ sql: sql.replace(/\s+/g, ' ').trim(), parameterChars });
      return inner.query(sql, params);
    },
  });
  return {
    statements,
    db: {
      engine: db.engine,
      query: (sql, params) => executor(db).query(sql, params),
      transaction: (work) => db.transaction((tx) => work(executor(tx))),
      exec: (script) => db.exec(script),
      close: () => db.close(),
    } satisfies SqlDatabase as SqlDatabase,
  };
}

const chunkRows = (db: SqlDatabase, id: string) =>
  db.query<{ attempt: number; chunk: number; count: number }>(
    'SELECT attempt, chunk, jsonb_array_length(accounts)::int AS count FROM screening_job_results WHERE job_id = $1 ORDER BY attempt, chunk',
    [id],
  );

describeOnEachDatabase('screening results, stored in chunks', (db) => {
  it('writes a 500-account result in chunks, one short statement each, and reads it back whole, in order', async () => {
    const { db: counted, statements } = watched(db());
    const jobs = new ScreeningJobs(counted);
    await jobs.create(job('draft-a:1'));
    const claimed = (await jobs.claimNext(60))!;
    const screened = result('eligible');
    const whole = JSON.stringify(screened).length;
    statements.length = 0;
    await jobs.complete(claimed, screened);

    const rows = await chunkRows(db(), 'draft-a:1');
    assert.equal(rows.length, LIST / RESULT_CHUNK_ACCOUNTS);
    assert.ok(
      rows.every((row) => row.count === RESULT_CHUNK_ACCOUNTS),
      `each chunk holds ${RESULT_CHUNK_ACCOUNTS} accounts: ${rows.map((row) => row.count).join(', ')}`,
    );
    // No statement carries the list: the largest carries one chunk of it, about a tenth.
    const largest = Math.max(...statements.map((statement) => statement.parameterChars));
    assert.ok(largest < whole / 5, `the largest statement carried ${largest} characters of a ${whole}-character result`);
    assert.equal(statements.filter((statement) => statement.sql.startsWith('INSERT INTO screening_job_results')).length, LIST / RESULT_CHUNK_ACCOUNTS);

    const done = (await jobs.get('draft-a:1'))!;
    assert.equal(done.status, 'done');
    assert.deepEqual(done.result, screened);
    const owed = await db().query<{ dedupe_key: string }>('SELECT dedupe_key FROM outbox');
    assert.deepEqual(
      owed.map((row) => row.dedupe_key),
      [dedupeKeys.screeningResults('draft-a:1', 1)],
    );
  });

  it('reads a stored result chunk by chunk, no statement returning the whole list', async () => {
    const jobs = new ScreeningJobs(db());
    await jobs.create(job('draft-b:1'));
    await jobs.complete((await jobs.claimNext(60))!, result('review'));
    const { db: counted, statements } = watched(db());
    const read = await new ScreeningJobs(counted).get('draft-b:1');
    assert.equal(read?.result?.accounts.length, LIST);
    assert.equal(statements.filter((statement) => statement.sql.startsWith('SELECT accounts FROM screening_job_results')).length, LIST / RESULT_CHUNK_ACCOUNTS);
    const [row] = await db().query<{ result: unknown }>(`SELECT result FROM screening_jobs WHERE id = 'draft-b:1'`);
    assert.equal(row?.result, null, 'the job row does not hold the list as well');
  });

  it('shows a result half written as no result: the job is still running, nothing is owed, and the next claim writes the whole of its own', async () => {
    const jobs = new ScreeningJobs(db());
    await jobs.create(job('draft-c:1'));
    const first = (await jobs.claimNext(60))!;
    // The database goes away after three chunks.
    const failing = watched(db(), { matches: /^\s*INSERT INTO screening_job_results/, allowed: 3 });
    await assert.rejects(new ScreeningJobs(failing.db).complete(first, result('eligible')), /went away/);
    const halfWritten = (await jobs.get('draft-c:1'))!;
    assert.equal(halfWritten.status, 'running');
    assert.equal(halfWritten.result, null, 'three chunks of eligible accounts are not a result');
    assert.deepEqual(await db().query('SELECT 1 FROM outbox'), [], 'no results message is owed');
    assert.equal((await chunkRows(db(), 'draft-c:1')).length, 3);

    // The runner fails the attempt (it is tried again later): what it wrote goes.
    assert.equal(await jobs.fail(first, 'SERVICE_BRIEFLY_UNAVAILABLE', 3, 0), 'retrying');
    assert.deepEqual(await chunkRows(db(), 'draft-c:1'), []);
    await db().query(`UPDATE screening_jobs SET lease_until = now() - interval '1 second'`);
    const second = (await jobs.claimNext(60))!;
    assert.equal(second.attempts, 2);
    await jobs.complete(second, result('ineligible'));
    const done = (await jobs.get('draft-c:1'))!;
    assert.equal(done.status, 'done');
    assert.deepEqual(done.result, result('ineligible'));
    assert.deepEqual([...new Set((await chunkRows(db(), 'draft-c:1')).map((row) => row.attempt))], [2]);
  });

  it('takes no chunk from a runner whose claim lapsed, and keeps only the result of the claim that completed', async () => {
    const jobs = new ScreeningJobs(db());
    await jobs.create(job('draft-d:1'));
    const first = (await jobs.claimNext(60))!;
    await db().query(`UPDATE screening_jobs SET lease_until = now() - interval '1 second'`);
    const second = (await jobs.claimNext(60))!;
    await jobs.complete(first, result('eligible'));
    assert.deepEqual(await chunkRows(db(), 'draft-d:1'), [], 'the lapsed runner wrote nothing');
    assert.equal((await jobs.get('draft-d:1'))?.status, 'running');
    // A chunk the lapsed runner got in before it lost the job (its statement raced the new claim) is no part of the result.
    await db().query(`INSERT INTO screening_job_results (job_id, run, attempt, chunk, accounts) VALUES ('draft-d:1', 1, $1, 0, $2)`, [
      first.attempts,
      JSON.stringify(result('eligible').accounts.slice(0, RESULT_CHUNK_ACCOUNTS)),
    ]);
    await jobs.complete(second, result('review'));
    const done = (await jobs.get('draft-d:1'))!;
    assert.ok(
      done.result?.accounts.every((account) => account.verdict === 'review'),
      'only the completing claim’s accounts',
    );
    assert.ok((await chunkRows(db(), 'draft-d:1')).every((row) => row.attempt === second.attempts));
  });

  it('refuses a done result with a chunk missing rather than show part of the list, and reads a deleted job as none', async () => {
    const jobs = new ScreeningJobs(db());
    await jobs.create(job('draft-e:1'));
    await jobs.complete((await jobs.claimNext(60))!, result('eligible'));
    await db().query(`DELETE FROM screening_job_results WHERE job_id = 'draft-e:1' AND chunk = 4`);
    await assert.rejects(jobs.get('draft-e:1'), (error: { code?: string }) => error.code === 'REQUEST_FAILED');
    // Retention deletes the job: its chunks go with it.
    await db().query(`DELETE FROM screening_jobs WHERE id = 'draft-e:1'`);
    assert.equal(await jobs.get('draft-e:1'), null);
    assert.deepEqual(await chunkRows(db(), 'draft-e:1'), []);
  });

  it('still reads a job done before migration 022, its result whole in the job row', async () => {
    const jobs = new ScreeningJobs(db());
    await jobs.create(job('draft-f:1'));
    const screened = result('review');
    await db().query(`UPDATE screening_jobs SET status = 'done', result = $2, checked = total WHERE id = $1`, ['draft-f:1', JSON.stringify(screened)]);
    assert.deepEqual((await jobs.get('draft-f:1'))?.result, screened);
  });
});
