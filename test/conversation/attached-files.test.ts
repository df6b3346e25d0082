import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Activity, TestAdapter } from 'botbuilder';
import ExcelJS from 'exceljs';
import { TEAMS_FILE_DOWNLOAD_INFO } from '../../bot/attachments/attached-file';
import { cardBody, cardText, startHarness, type Harness } from '../support/bot-harness';

/**
 * Lists attached as files, the way Teams delivers them: a file download info attachment whose
 * downloadUrl the bot fetches. A loopback server stands in for SharePoint (not ours).
 */
describe('requester conversation: a list attached as a CSV or XLSX file', () => {
  let harness: Harness;
  let files: http.Server;
  let filesUrl: string;
  const served = new Map<string, { body: Buffer; type: string }>();

  before(async () => {
    harness = await startHarness();
    files = http.createServer((req, res) => {
      const file = served.get(req.url ?? '');
      res.statusCode = file ? 200 : 404;
      if (file) res.setHeader('content-type', file.type);
      res.end(file?.body ?? '');
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => files.close(() => resolve()));
    await harness.close();
  });

  const attach = (name: string, fileType: string): Partial<Activity> => ({
    type: 'message',
    text: '',
    attachments: [{ contentType: TEAMS_FILE_DOWNLOAD_INFO, name, content: { downloadUrl: `${filesUrl}/${name}`, uniqueId: name, fileType } }],
  });

  async function toAccounts(adapter: TestAdapter): Promise<void> {
    await adapter
      .send('new transfer')
      .assertReply((activity) => assert.match(activity.text ?? '', /Are the accounts transferring/))
      .send('yes')
      .assertReply((activity) => assert.match(activity.text ?? '', /Why are these accounts/))
      .send('Our sponsorship of these community pharmacies ends on 31 March.')
      .assertReply((activity) => assert.match(cardText(activity), /Accounts to transfer/))
      .startTest();
  }

  it('reads a CSV with a header in its own column order, and screens its accounts', async () => {
    served.set('/accounts.csv', {
      body: Buffer.from('Site ODS code,Email address\nZZ9101,amara.mensah@nhsmail.example\n,esme.flint@nhsmail.example\n'),
      type: 'text/csv',
    });
    const adapter = harness.adapterFor('priya');
    await toAccounts(adapter);
    await adapter
      .send(attach('accounts.csv', 'csv'))
      .assertReply((activity) => assert.equal(activity.type, 'typing'))
      .assertReply((activity) => assert.match(activity.text ?? '', /Checking 2 accounts/))
      .send('cancel')
      .assertReply((activity) => assert.match(activity.text ?? '', /Cancelled/))
      .startTest();
  });

  it('reads an XLSX, and tells bad rows by their spreadsheet row number without losing the good ones', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Accounts');
    sheet.addRow(['Email', 'Site', 'Specialism']);
    sheet.addRow(['amara.mensah@nhsmail.example', 'ZZ9101', '']);
    sheet.addRow(['not an address', '', '']);
    sheet.addRow(['esme.flint@nhsmail.example', 'ZZ 91!', '']);
    served.set('/accounts.xlsx', {
      body: Buffer.from(await workbook.xlsx.writeBuffer()),
      type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    });
    const adapter = harness.adapterFor('priya');
    await toAccounts(adapter);
    await adapter
      .send(attach('accounts.xlsx', 'xlsx'))
      .assertReply((activity) => {
        const text = cardText(activity);
        assert.match(text, /2 of the rows of accounts\.xlsx need correcting \(1 account was fine\)/);
        assert.match(text, /Row 3: /);
        assert.match(text, /Row 4: /);
      })
      .send('cancel')
      .assertReply((activity) => assert.match(activity.text ?? '', /Cancelled/))
      .startTest();
  });

  it('turns an attached file into the list, so "edit" brings the accounts back in the box', async () => {
    served.set('/two.csv', { body: Buffer.from('email\namara.mensah@nhsmail.example\nesme.flint@nhsmail.example\n'), type: 'text/csv' });
    const adapter = harness.adapterFor('priya');
    await toAccounts(adapter);
    await adapter
      .send(attach('two.csv', 'csv'))
      .assertReply((activity) => assert.equal(activity.type, 'typing'))
      .assertReply((activity) => assert.match(activity.text ?? '', /Checking 2 accounts/))
      .startTest();
    await harness.settle();
    await adapter
      .send({ type: 'message', value: { step: 'edit' } })
      .assertReply((activity) => {
        const input = (cardBody(activity).body as Array<{ id?: string; value?: string }>).find((element) => element.id === 'accounts');
        assert.equal(input?.value, 'amara.mensah@nhsmail.example\nesme.flint@nhsmail.example', 'the file’s accounts, back in the box');
      })
      .send('cancel')
      .assertReply((activity) => assert.match(activity.text ?? '', /Cancelled/))
      .startTest();
  });

  it('counts a repeated row once, saying so, and refuses a specialism the policy does not know, naming the row', async () => {
    served.set('/repeats.csv', {
      body: Buffer.from(
        'specialism,email\npharmacy,amara.mensah@nhsmail.example\npharmacy,amara.mensah@nhsmail.example\nastrology,esme.flint@nhsmail.example\n',
      ),
      type: 'text/csv',
    });
    served.set('/fixed.csv', {
      body: Buffer.from(
        'specialism,email\npharmacy,amara.mensah@nhsmail.example\npharmacy,amara.mensah@nhsmail.example\ndentistry,esme.flint@nhsmail.example\n',
      ),
      type: 'text/csv',
    });
    const adapter = harness.adapterFor('priya');
    await toAccounts(adapter);
    await adapter
      .send(attach('repeats.csv', 'csv'))
      .assertReply((activity) => {
        const text = cardText(activity);
        assert.match(text, /1 of the rows of repeats\.csv needs correcting \(1 account was fine\)/);
        assert.match(
          text,
          /Row 4: \\"astrology\\" is not a specialism I understand\. Use one of: Social care, Pharmacy, Optometry, Dentistry, Independent midwifery, GP locum/,
        );
      })
      .send(attach('fixed.csv', 'csv'))
      .assertReply((activity) => assert.equal(activity.type, 'typing'))
      .assertReply((activity) =>
        assert.equal(
          activity.text,
          'Row 3: listed twice (also row 2): counted once.\n\nChecking 2 accounts against the transfer policy… I will post the results here as soon as they are ready.',
        ),
      )
      .send('cancel')
      .assertReply((activity) => assert.match(activity.text ?? '', /Cancelled/))
      .startTest();
  });

  it('refuses a file type it cannot read, and one it cannot fetch, with a clear message', async () => {
    const adapter = harness.adapterFor('priya');
    await toAccounts(adapter);
    await adapter
      .send(attach('photo.png', 'png'))
      .assertReply((activity) => assert.match(cardText(activity), /Attach the list as a CSV or an Excel \(\.xlsx\) file, or paste it as text\./))
      .send(attach('missing.csv', 'csv'))
      .assertReply((activity) => assert.match(cardText(activity), /The attached file could not be fetched from Teams/))
      .send('cancel')
      .assertReply((activity) => assert.match(activity.text ?? '', /Cancelled/))
      .startTest();
  });
});
