import assert from 'node:assert/strict';
import { downloadAttachedFile, type AttachedFile } from '../../bot/attachments/attached-file';
import { AppError } from '../../core/errors';
import { DEFAULT_ACCOUNT_FILE_LIMITS } from '../../services/account-file';

const CSV = 'email,site_ods_code\namara.mensah@nhsmail.example,ZZ9101\n';
const SHAREPOINT_LINK = 'https://northmoor-my.sharepoint.com/personal/priya_okafor_northmoor_nhs_uk/_layouts/15/download.aspx?UniqueId=1150d938&tempauth=abc';
const NOT_FETCHED = 'The attached file could not be fetched from Teams.';
const TOO_LARGE = `The attached file is larger than ${DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes / 1024} KB.`;

const file = (downloadUrl: string): AttachedFile => ({ name: 'accounts.csv', fileType: 'csv', downloadUrl });

/** A fetch that records what it was asked for and answers with `respond`. */
function fakeFetch(respond: () => Response = () => new Response(CSV, { headers: { 'content-type': 'text/csv' } })) {
  const requested: string[] = [];
  const fetchImpl = (async (input: string | URL | Request) => {
    requested.push(String(input instanceof Request ? input.url : input));
    return respond();
  }) as typeof fetch;
  return { fetchImpl, requested };
}

/** A body sent in 64 KB chunks with no length declared, counting how much of it was pulled. */
function undeclaredBody(totalBytes: number) {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let pulled = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= totalBytes) return controller.close();
      pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, pulledBytes: () => pulled, wasCancelled: () => cancelled };
}

async function refused(promise: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, String(error));
    assert.ok(error.userMessage.includes(message), error.userMessage);
    return true;
  });
}

describe('downloadAttachedFile: only from where Teams keeps chat files, and bounded', () => {
  const FORGED_LINKS = [
    ['an https host that is not SharePoint', 'https://files.example.org/accounts.csv'],
    ['a look-alike of SharePoint', 'https://sharepoint.com.evil.example/accounts.csv'],
    ['a name that merely ends in "sharepoint.com"', 'https://evilsharepoint.com/accounts.csv'],
    ['an internal address', 'https://10.0.0.5/accounts.csv'],
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/'],
    ['SharePoint over plain http', 'http://northmoor.sharepoint.com/accounts.csv'],
    ['SharePoint with credentials in the link', 'https://user:secret@northmoor.sharepoint.com/accounts.csv'],
    ['loopback outside a local run', 'http://127.0.0.1:8080/accounts.csv'],
    ['loopback over https outside a local run', 'https://localhost/accounts.csv'],
  ] as const;
  for (const [what, link] of FORGED_LINKS) {
    it(`refuses ${what}, without fetching it`, async () => {
      const { fetchImpl, requested } = fakeFetch();
      await refused(downloadAttachedFile(file(link), false, fetchImpl), NOT_FETCHED);
      assert.deepEqual(requested, []);
    });
  }

  it('fetches a OneDrive/SharePoint link Teams gave, and returns its content', async () => {
    const { fetchImpl, requested } = fakeFetch();
    const fetched = await downloadAttachedFile(file(SHAREPOINT_LINK), false, fetchImpl);
    assert.deepEqual(requested, [SHAREPOINT_LINK]);
    assert.equal(fetched.content.toString('utf8'), CSV);
    assert.equal(fetched.name, 'accounts.csv');
    assert.equal(fetched.contentType, 'text/csv');
  });

  it('refuses a body over the limit that declared no length, and stops reading it', async () => {
    const body = undeclaredBody(DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes * 8);
    const { fetchImpl } = fakeFetch(() => new Response(body.stream));
    await refused(downloadAttachedFile(file(SHAREPOINT_LINK), false, fetchImpl), TOO_LARGE);
    assert.ok(body.pulledBytes() <= DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes + 2 * 64 * 1024, `read ${body.pulledBytes()} bytes`);
    assert.ok(body.wasCancelled(), 'the rest of the body was cancelled');
  });

  it('takes a body of exactly the limit', async () => {
    const { fetchImpl } = fakeFetch(() => new Response(new Uint8Array(DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes)));
    const fetched = await downloadAttachedFile(file(SHAREPOINT_LINK), false, fetchImpl);
    assert.equal(fetched.content.length, DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes);
  });

  it('refuses a body that declares a length over the limit', async () => {
    const { fetchImpl } = fakeFetch(() => new Response('x', { headers: { 'content-length': String(DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes + 1) } }));
    await refused(downloadAttachedFile(file(SHAREPOINT_LINK), false, fetchImpl), TOO_LARGE);
  });

  it('in a local run, fetches a loopback stand-in over http or https, and still nothing else', async () => {
    for (const link of ['http://127.0.0.1:4010/accounts.csv', 'https://localhost:4010/accounts.csv', 'http://[::1]:4010/accounts.csv']) {
      const { fetchImpl, requested } = fakeFetch();
      const fetched = await downloadAttachedFile(file(link), true, fetchImpl);
      assert.equal(fetched.content.toString('utf8'), CSV);
      assert.equal(requested.length, 1, link);
    }
    const { fetchImpl, requested } = fakeFetch();
    await refused(downloadAttachedFile(file('http://files.example.org/accounts.csv'), true, fetchImpl), NOT_FETCHED);
    await refused(downloadAttachedFile(file('http://10.0.0.5/accounts.csv'), true, fetchImpl), NOT_FETCHED);
    assert.deepEqual(requested, []);
  });

  it('asks fetch not to follow redirects, so an allowed host cannot send the bot elsewhere', async () => {
    let init: RequestInit | undefined;
    const fetchImpl = (async (_input: string | URL | Request, options?: RequestInit) => {
      init = options;
      return new Response(CSV);
    }) as typeof fetch;
    await downloadAttachedFile(file(SHAREPOINT_LINK), false, fetchImpl);
    assert.equal(init?.redirect, 'error');
  });
});
