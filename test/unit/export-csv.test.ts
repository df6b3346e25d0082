import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import type { StoredAccount, StoredRequest } from '../../services/model';
import { csvField, csvFileBytes, requestCsv } from '../../services/export/request-csv';
import type { AuditEvent } from '../../services/store/audit';

const TOM = { id: 'ops-tom', name: 'Tom Ashdown' };
const at = (iso: string) => new Date(iso);

function account(overrides: Partial<StoredAccount>): StoredAccount {
  return {
    id: 11,
    position: 1,
    email: 'amara.mensah@nhsmail.example',
    siteOds: 'ZZ9101',
    specialism: 'pharmacy',
    verdict: 'eligible',
    reasons: [],
    evidence: {
      directoryFound: true,
      displayName: 'Amara Mensah',
      jobTitle: 'Pharmacist',
      siteName: 'Northmoor Pharmacy',
      ukMobileOnRecord: true,
      mobileCheck: 'uk-mobile',
      dsptStatus: 'Standards Met',
    },
    decision: 'approved',
    decisionReason: null,
    decidedBy: TOM,
    decidedAt: at('2026-11-20T10:15:00Z'),
    transferredBy: null,
    transferredAt: null,
    transferNote: null,
    ...overrides,
  };
}

const request: StoredRequest = {
  id: 7,
  reference: 'NTR-100007',
  organisationOds: 'ZZ9001',
  organisationName: 'Northmoor Community Care Partnership',
  requester: { id: 'priya-oid', name: 'Priya Okafor' },
  reason: '=HYPERLINK("http://evil.example","click"), sponsorship ends',
  attestations: { usersInformed: true, residualDataRemoved: true, notMarkedAsLeavers: true, resolutionForIneligible: false },
  policyVersion: '2026.11-1',
  status: 'decided',
  createdAt: at('2026-11-18T09:00:00Z'),
  decidedAt: at('2026-11-20T10:16:00Z'),
  opsConversationId: null,
  opsActivityId: null,
  outcomeNotifiedAt: null,
  outcomeNotification: 'pending',
  claimedBy: TOM,
  claimedAt: at('2026-11-19T08:00:00Z'),
  completedAt: null,
  withdrawnAt: null,
  questions: [
    {
      id: 1,
      askedBy: TOM,
      question: 'Is Kezia still at the site?',
      askedAt: at('2026-11-19T08:05:00Z'),
      answer: '+ yes, until May',
      answeredAt: at('2026-11-19T09:00:00Z'),
    },
  ],
  accounts: [
    account({}),
    account({
      id: 12,
      position: 2,
      email: 'wren.hadley@nhsmail.example',
      specialism: null,
      verdict: 'review',
      reasons: [
        { rule: 'SITE_NOT_DSPT_COMPLIANT', verdict: 'review', message: 'Site ZZ9103 DSPT status is "Approaching Standards".', remedy: 'Complete the DSPT.' },
      ],
      // A phone number smuggled into evidence (it never is stored there) must still not reach the file.
      evidence: { directoryFound: true, mobilePhone: '+44 7700 900123' } as StoredAccount['evidence'],
      decision: 'rejected',
      decisionReason: '@SUM(1+1) not at this site',
    }),
    account({
      id: 13,
      position: 3,
      email: 'kezia.morrow@nhsmail.example',
      verdict: 'ineligible',
      reasons: [
        { rule: 'MARKED_AS_LEAVER', verdict: 'ineligible', message: 'Marked as a leaver.', remedy: 'Unmark.' },
        { rule: 'NO_UK_MOBILE', verdict: 'ineligible', message: 'No UK mobile.', remedy: 'Add one.' },
      ],
      evidence: { directoryFound: true, ukMobileOnRecord: false, mobileCheck: 'not-uk-mobile', mobileCountry: 'FR' },
      decision: null,
      decidedBy: null,
      decidedAt: null,
    }),
  ],
};

const events: AuditEvent[] = [
  {
    action: 'request.submitted',
    actorId: 'priya-oid',
    actorName: 'Priya Okafor',
    requestId: 7,
    accountId: null,
    occurredAt: at('2026-11-18T09:00:00Z'),
    detail: { reference: 'NTR-100007', accountCount: 3 },
  },
  {
    action: 'account.rejected',
    actorId: 'ops-tom',
    actorName: 'Tom Ashdown',
    requestId: 7,
    accountId: 12,
    occurredAt: at('2026-11-20T10:16:00Z'),
    detail: { reason: 'not at this site' },
  },
];

const csv = requestCsv(request, events);
const rows = parse(csv, { relax_column_count: false }) as string[][];
const section = (name: string) => rows.filter((row) => row[0] === name);
const requestField = (field: string) => section('Request').find((row) => row[1] === field)?.[2];
const accountHeader = rows.find((row) => row[0] === 'Section' && row[1] === '#')!;
const accountCell = (position: number, column: string) => section('Account').find((row) => row[1] === String(position))?.[accountHeader.indexOf(column)];

describe('request CSV export', () => {
  it('is RFC 4180: CRLF line ends, one width for every row, quotes doubled', () => {
    assert.ok(csv.endsWith('\r\n'));
    assert.doesNotMatch(csv.replace(/"[^"]*(""[^"]*)*"/g, ''), /(?<!\r)\n/, 'bare LF only inside quoted fields');
    const widths = new Set(rows.map((row) => row.length));
    assert.equal(widths.size, 1, 'every record has the same number of fields');
    assert.match(csv, /"Site ZZ9103 DSPT status is ""Approaching Standards""\."/);
  });

  it('has the request answers, attestations, policy version, status and times', () => {
    assert.equal(requestField('Reference'), 'NTR-100007');
    assert.equal(requestField('Organisation'), 'Northmoor Community Care Partnership');
    assert.equal(requestField('Organisation ODS code'), 'ZZ9001');
    assert.equal(requestField('Requested by'), 'Priya Okafor');
    assert.equal(requestField('Confirmed: Affected users told of the process and timescales'), 'yes');
    assert.equal(requestField('Confirmed: Resolution for ineligible users'), 'no');
    assert.equal(requestField('Policy version'), '2026.11-1');
    assert.equal(requestField('Status'), 'Decided');
    assert.equal(requestField('Submitted at (UTC)'), '2026-11-18T09:00:00.000Z');
    assert.equal(requestField('Decided at (UTC)'), '2026-11-20T10:16:00.000Z');
    assert.equal(requestField('Reviewed by'), 'Tom Ashdown');
  });

  it('has one row per account with verdict, rule ids, reasons, evidence, decision and screened-out flag', () => {
    assert.deepEqual(
      section('Account').map((row) => row[2]),
      ['amara.mensah@nhsmail.example', 'wren.hadley@nhsmail.example', 'kezia.morrow@nhsmail.example'],
    );
    assert.equal(accountCell(1, 'Specialism'), 'pharmacy');
    assert.equal(accountCell(1, 'Evidence: Job title'), 'Pharmacist');
    assert.equal(accountCell(1, 'Evidence: UK mobile on record'), 'yes');
    assert.equal(accountCell(1, 'Decision'), 'approved');
    assert.equal(accountCell(1, 'Decided by'), 'Tom Ashdown');
    assert.equal(accountCell(1, 'Decided at (UTC)'), '2026-11-20T10:15:00.000Z');
    assert.equal(accountCell(1, 'Screened out'), 'no');
    assert.equal(accountCell(2, 'Verdict'), 'review');
    assert.equal(accountCell(2, 'Rule ids'), 'SITE_NOT_DSPT_COMPLIANT');
    assert.equal(accountCell(2, 'Reasons'), 'Site ZZ9103 DSPT status is "Approaching Standards".');
    assert.equal(accountCell(3, 'Rule ids'), 'MARKED_AS_LEAVER; NO_UK_MOBILE');
    assert.equal(accountCell(3, 'Reasons'), 'Marked as a leaver.\nNo UK mobile.');
    assert.equal(accountCell(3, 'Evidence: Mobile country'), 'FR');
    assert.equal(accountCell(3, 'Decision'), '');
    assert.equal(accountCell(3, 'Screened out'), 'yes');
  });

  it('never carries a phone number', () => {
    assert.doesNotMatch(csv, /7700|900123|mobilePhone/);
  });

  it('has the questions and the audit history', () => {
    assert.deepEqual(section('Question'), [
      [
        'Question',
        '2026-11-19T08:05:00.000Z',
        'Tom Ashdown',
        'Is Kezia still at the site?',
        '2026-11-19T09:00:00.000Z',
        "'+ yes, until May",
        ...Array(accountHeader.length - 6).fill(''),
      ],
    ]);
    assert.deepEqual(
      section('Audit').map((row) => row.slice(1, 7)),
      [
        ['2026-11-18T09:00:00.000Z', 'request.submitted', 'Priya Okafor', 'priya-oid', '', '{"reference":"NTR-100007","accountCount":3}'],
        ['2026-11-20T10:16:00.000Z', 'account.rejected', 'Tom Ashdown', 'ops-tom', '2', '{"reason":"not at this site"}'],
      ],
    );
  });

  it('makes formulas inert: values starting = + - @ tab or CR get an apostrophe', () => {
    assert.equal(requestField('Reason for transfer'), `'=HYPERLINK("http://evil.example","click"), sponsorship ends`);
    assert.equal(accountCell(2, 'Decision reason'), "'@SUM(1+1) not at this site");
    for (const [raw, expected] of [
      ['=1+1', "'=1+1"],
      ['+44', "'+44"],
      ['-2', "'-2"],
      ['@A1', "'@A1"],
      ['\tx', "'\tx"],
      ['\r=1', `"'\r=1"`],
      ['a=1', 'a=1'],
      ['plain', 'plain'],
      ['x\u0000y\u001b', 'xy'],
      ['say "hi", ok', '"say ""hi"", ok"'],
    ])
      assert.equal(csvField(raw!), expected, JSON.stringify(raw));
  });

  it('is written as UTF-8 with a byte order mark, for Excel', () => {
    const bytes = csvFileBytes('Zoë\r\n');
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.equal(bytes.subarray(3).toString('utf8'), 'Zoë\r\n');
  });
});
