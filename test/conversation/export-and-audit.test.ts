import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'csv-parse/sync';
import type { Activity, TestAdapter } from 'botbuilder';
import { MAX_AUDIT_LINES } from '../../bot/commands/audit-command';
import { FILE_CONSENT_CONTENT_TYPE, FILE_INFO_CONTENT_TYPE } from '../../bot/files/file-consent';
import { ConversationReferences } from '../../bot/state/conversation-references';
import type { StoredRequest } from '../../services/model';
import { opsChannel, PEOPLE, personalChat, startHarness, type Harness } from '../support/bot-harness';
import { requestDetails, screenedAccount } from '../support/fixtures';

interface Upload {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Stands in for the OneDrive upload session Teams creates when a file consent card is
 * accepted: an edge we do not own. It records each request and answers with `status`.
 */
async function startFakeOneDrive(): Promise<{ url: string; uploads: Upload[]; status: number; close(): Promise<void> }> {
  const uploads: Upload[] = [];
  const state = { status: 201 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      uploads.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(state.status, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    uploads,
    get status() {
      return state.status;
    },
    set status(value: number) {
      state.status = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('export and audit (ops channel commands, file consent)', function () {
  this.timeout(30_000);
  let harness: Harness;
  let oneDrive: Awaited<ReturnType<typeof startFakeOneDrive>>;
  let adapter: TestAdapter;
  let request: StoredRequest;
  let requestsMade = 0;

  before(async () => {
    harness = await startHarness();
    oneDrive = await startFakeOneDrive();
    // The real bot and its one route table (bot/text-routes.ts), with its middleware: never a copy of the router.
    adapter = harness.adapterFor('tom');
  });
  after(async () => {
    await oneDrive.close();
    await harness.close();
  });

  beforeEach(async () => {
    const n = ++requestsMade;
    const { request: created } = await harness.app.requests.submit({
      ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: 'Priya Okafor' }),
      reason: '=HYPERLINK("http://evil.example") sponsorship ends',
      draftId: randomUUID(),
      accounts: [screenedAccount(1, `amara.mensah.${n}@nhsmail.example`, 'eligible'), screenedAccount(2, `esme.flint.${n}@nhsmail.example`, 'review')],
    });
    request = created;
    await harness.app.requests.approveEligible(request.id, { id: PEOPLE.tom.aadObjectId, name: 'Tom Ashdown' });
    await harness.app.requests.decideAccount(
      request.id,
      request.accounts[1]!.id,
      'rejected',
      { id: PEOPLE.tom.aadObjectId, name: 'Tom Ashdown' },
      '**not** at [this](http://x) site',
    );
    await harness.app.references.delete(ConversationReferences.forUser(PEOPLE.tom.aadObjectId));
    harness.messenger.clear();
    oneDrive.uploads.length = 0;
    oneDrive.status = 201;
  });

  /** Sends one activity and returns what the bot sent back in that turn. */
  async function turn(activity: Partial<Activity>): Promise<Array<Partial<Activity>>> {
    adapter.activeQueue.splice(0);
    await adapter.processActivity({ channelId: 'msteams', serviceUrl: 'https://smba.example', recipient: { id: 'bot', name: 'NAS Transfer' }, ...activity });
    return adapter.activeQueue.splice(0);
  }
  const inChannel = (user: keyof typeof PEOPLE, text: string) =>
    turn({
      type: 'message',
      text,
      from: PEOPLE[user],
      conversation: opsChannel,
      channelData: { tenant: { id: opsChannel.tenantId }, channel: { id: opsChannel.id } },
    });
  const consent = (user: keyof typeof PEOPLE, value: Record<string, unknown>) =>
    turn({
      type: 'invoke',
      name: 'fileConsent/invoke',
      from: PEOPLE[user],
      conversation: personalChat(user, 'files'),
      channelData: { tenant: { id: opsChannel.tenantId } },
      value,
    });
  /** The consent card the bot sent to Tom's chat for `export`: Accept and Decline send back its contexts, as Teams does. */
  const offeredConsent = async () => {
    await knowTomsChat();
    await inChannel('tom', `export ${request.reference}`);
    const offered = harness.messenger.sent.find((sent) => sent.activity.attachments?.[0]?.contentType === FILE_CONSENT_CONTENT_TYPE);
    assert.ok(offered, 'the bot offered the file');
    return offered.activity.attachments![0]!.content as { acceptContext: unknown; declineContext: unknown };
  };
  /** Tom pressing Accept on the consent card in his chat. */
  const acceptOffered = async (uploadUrl?: string) => ({ ...accepted(0, uploadUrl), context: (await offeredConsent()).acceptContext });
  /** An accept invoke with the context written by the test: forged unless it is what the card offered. */
  const accepted = (requestId: number, uploadUrl = `${oneDrive.url}/upload/session-1`) => ({
    type: 'fileUpload',
    action: 'accept',
    context: { requestId },
    uploadInfo: {
      name: `${request.reference}.csv`,
      uploadUrl,
      contentUrl: 'https://contoso-my.sharepoint.com/personal/tom/Documents/Applications/NTR.csv',
      uniqueId: '1150D938-8870-4044-9F2C-5BBDEBA70C9D',
      fileType: 'csv',
    },
  });
  const textOf = (activities: Array<Partial<Activity>>) =>
    activities
      .filter((activity) => activity.type === 'message')
      .map((activity) => activity.text ?? '')
      .join('\n');
  const exportsAudited = async () => (await harness.app.audit.forRequest(request.id)).filter((event) => event.action === 'request.exported');
  const knowTomsChat = () =>
    harness.app.references.save(ConversationReferences.forUser(PEOPLE.tom.aadObjectId), {
      serviceUrl: 'https://smba.example',
      conversation: personalChat('tom', 'files'),
    });

  describe('audit NTR-…', () => {
    it('shows an ops member the history in UK time, with actors, events and short details, escaped', async () => {
      const reply = textOf(await inChannel('tom', `audit ${request.reference.toLowerCase()}`));
      assert.match(reply, new RegExp(`^\\*\\*Audit history of ${request.reference}\\*\\* \\(3 events, UK time\\)`));
      const lines = reply.split('\n').filter((line) => line.startsWith('- '));
      assert.equal(lines.length, 3);
      assert.match(
        lines[0]!,
        /^- \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} (GMT|BST) · Priya Okafor · submitted the request · 2 accounts: 1 eligible, 1 for review; screened under policy [\d.-]+$/,
      );
      assert.match(lines[1]!, /Tom Ashdown · approved \(all eligible\) · account 1 \(amara\.mensah\.\d+@nhsmail\.example\)$/);
      // The decision reason is text someone typed: shown, but as text, not markdown.
      assert.match(
        lines[2]!,
        /Tom Ashdown · rejected · account 2 \(esme\.flint\.\d+@nhsmail\.example\) · reason: \\\*\\\*not\\\*\\\* at \\\[this\\\]\(http:\/\/x\) site$/,
      );
    });

    it('is bounded: the latest lines, and how many more there are', async () => {
      for (let index = 0; index < 60; index++)
        await harness.app.audit.record({ id: PEOPLE.tom.aadObjectId, name: 'Tom Ashdown' }, 'request.exported', request.id, { note: 'x'.repeat(500) });
      const reply = textOf(await inChannel('tom', `audit ${request.reference}`));
      assert.equal(reply.split('\n').filter((line) => line.startsWith('- ')).length, MAX_AUDIT_LINES);
      assert.match(reply, new RegExp(`23 earlier events are not shown here: type \\*\\*export ${request.reference}\\*\\* for the full history\\.`));
      assert.ok(reply.length < 28_000 / 2, `${reply.length} characters is well inside a Teams message`);
      assert.doesNotMatch(reply, /submitted the request/, 'the oldest are the ones left out');
    });

    it('refuses anyone outside NAS Operations, and says so', async () => {
      const reply = textOf(await inChannel('priya', `audit ${request.reference}`));
      assert.equal(reply, 'Only members of NAS Operations can act on transfer requests.');
      assert.doesNotMatch(reply, /Priya|amara/);
    });

    it('says when the reference is unknown or missing', async () => {
      assert.equal(textOf(await inChannel('tom', 'audit NTR-999999')), 'No transfer request has that reference.');
      assert.match(textOf(await inChannel('tom', 'audit')), /Type \*\*audit NTR-…\*\*/);
    });
  });

  describe('export NTR-…', () => {
    it('without a personal chat, asks the member to open one first and sends nothing', async () => {
      const reply = textOf(await inChannel('tom', `export ${request.reference}`));
      assert.match(reply, /do not have one with you yet\. Open a chat with me/);
      assert.deepEqual(harness.messenger.sent, []);
    });

    it('sends a file consent card to the member’s personal chat and tells the channel', async () => {
      await knowTomsChat();
      const reply = textOf(await inChannel('tom', `export ${request.reference}`));
      assert.match(reply, /^I have sent the export to your chat with me/);
      assert.doesNotMatch(reply, /amara|Priya/, 'no personal data in the channel');
      assert.equal(harness.messenger.sent.length, 1);
      const [sent] = harness.messenger.sent;
      assert.equal(sent!.conversationId, personalChat('tom', 'files').id);
      const attachment = sent!.activity.attachments?.[0];
      assert.equal(attachment?.contentType, FILE_CONSENT_CONTENT_TYPE);
      assert.equal(attachment?.name, `${request.reference}.csv`);
      const content = attachment?.content as { description: string; sizeInBytes: number; acceptContext: unknown; declineContext: unknown };
      assert.deepEqual(content.acceptContext, { requestId: request.id });
      assert.deepEqual(content.declineContext, { requestId: request.id });
      assert.ok(content.sizeInBytes > 500, 'the size of the CSV');
      assert.match(content.description, new RegExp(request.reference));
      assert.deepEqual(await exportsAudited(), [], 'offering is not exporting');
    });

    it('a member who removed the bot is asked to open a chat again', async () => {
      await knowTomsChat();
      harness.messenger.failNext({ status: 403 });
      assert.match(textOf(await inChannel('tom', `export ${request.reference}`)), /Open a chat with me/);
    });

    it('refuses anyone outside NAS Operations', async () => {
      assert.equal(textOf(await inChannel('priya', `export ${request.reference}`)), 'Only members of NAS Operations can act on transfer requests.');
      assert.deepEqual(harness.messenger.sent, []);
    });
  });

  describe('file consent', () => {
    it('on accept, uploads the CSV with Content-Range, shows the file card and audits the export', async () => {
      const replies = await consent('tom', await acceptOffered());
      assert.equal(oneDrive.uploads.length, 1);
      const [upload] = oneDrive.uploads;
      assert.equal(upload!.method, 'PUT');
      assert.equal(upload!.url, '/upload/session-1');
      const size = upload!.body.length;
      assert.equal(upload!.headers['content-length'], String(size));
      assert.equal(upload!.headers['content-range'], `bytes 0-${size - 1}/${size}`);
      const rows = parse(upload!.body.subarray(3).toString('utf8')) as string[][];
      assert.equal(rows.find((row) => row[1] === 'Reference')?.[2], request.reference);
      assert.equal(rows.find((row) => row[1] === 'Reason for transfer')?.[2], `'=HYPERLINK("http://evil.example") sponsorship ends`);
      assert.deepEqual(
        rows.filter((row) => row[0] === 'Account').map((row) => row[2]),
        request.accounts.map((account) => account.email),
      );

      const card = replies.find((activity) => activity.type === 'message')?.attachments?.[0];
      assert.deepEqual(card, {
        contentType: FILE_INFO_CONTENT_TYPE,
        contentUrl: 'https://contoso-my.sharepoint.com/personal/tom/Documents/Applications/NTR.csv',
        name: `${request.reference}.csv`,
        content: { uniqueId: '1150D938-8870-4044-9F2C-5BBDEBA70C9D', fileType: 'csv' },
      });
      assert.equal(replies.find((activity) => activity.type === 'invokeResponse')?.value?.status, 200);
      assert.deepEqual(
        (await exportsAudited()).map((event) => [event.actorId, event.actorName]),
        [[PEOPLE.tom.aadObjectId, 'Tom Ashdown']],
      );
    });

    it('tampering: re-checks membership on accept: someone outside NAS Operations sending an accept gets nothing uploaded', async () => {
      const reply = textOf(await consent('priya', accepted(request.id)));
      assert.equal(reply, 'Only members of NAS Operations can act on transfer requests.');
      assert.equal(oneDrive.uploads.length, 0);
      assert.deepEqual(await exportsAudited(), []);
    });

    it('tampering: trusts nothing in a forged context but a request id', async () => {
      for (const context of [{ requestId: String(request.id) }, { requestId: -1 }, {}, null]) {
        assert.equal(textOf(await consent('tom', { ...accepted(request.id), context })), 'That card action was not recognised. Please use the latest card.');
      }
      assert.equal(textOf(await consent('tom', accepted(999_999))), 'No transfer request has that reference.');
      assert.equal(oneDrive.uploads.length, 0);
    });

    it('uploads only to OneDrive (or loopback in local runs)', async () => {
      const reply = textOf(await consent('tom', await acceptOffered('https://collector.evil.example/upload')));
      assert.match(reply, /The export could not be saved to your OneDrive/);
      assert.deepEqual(await exportsAudited(), []);
    });

    it('says so when the upload fails, and records no export', async () => {
      const offered = await acceptOffered();
      oneDrive.status = 500;
      const replies = await consent('tom', offered);
      assert.equal(oneDrive.uploads.length, 1);
      assert.match(
        textOf(replies),
        new RegExp(
          `The export could not be saved to your OneDrive\\. Nothing was recorded as exported\\. Type \\*\\*export ${request.reference}\\*\\* in the NAS Operations channel to try again\\.`,
        ),
      );
      assert.equal(replies.filter((activity) => activity.attachments?.length).length, 0, 'no file card for a file that is not there');
      assert.deepEqual(await exportsAudited(), []);
    });

    it('on decline, uploads nothing and says so', async () => {
      const reply = textOf(await consent('tom', { type: 'fileUpload', action: 'decline', context: (await offeredConsent()).declineContext }));
      assert.equal(reply, 'Export cancelled: nothing was saved to your OneDrive.');
      assert.equal(oneDrive.uploads.length, 0);
    });
  });
});
