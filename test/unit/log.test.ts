import assert from 'node:assert/strict';
import { createLogger, withCorrelationId, type LogLevel } from '../../core/log';

const ADDRESS = 'amara.mensah@nhsmail.example';
const MOBILE = '07700 900123';
const MESSAGE_TEXT = 'Please move our sponsorship to NAS before the merger';

function capture(level: LogLevel = 'debug') {
  const lines: string[] = [];
  const logger = createLogger(level, (line) => lines.push(line));
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('logging', () => {
  it('writes one JSON object per line with level, time, event and fields, event first', () => {
    const { logger, lines, records } = capture();
    logger.info('request.submitted', { requestId: 7, reference: 'NTR-000007' });
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /"event":"request.submitted","requestId":7,"reference":"NTR-000007"/);
    const [record] = records();
    assert.equal(record!.level, 'info');
    assert.ok(!Number.isNaN(Date.parse(String(record!.time))), 'ISO time');
  });

  it('drops lines below its level, and writes nothing when silent', () => {
    const warnOnly = capture('warn');
    warnOnly.logger.debug('a');
    warnOnly.logger.info('b');
    warnOnly.logger.warn('c');
    warnOnly.logger.error('d');
    assert.deepEqual(
      warnOnly.records().map((record) => [record.level, record.event]),
      [
        ['warn', 'c'],
        ['error', 'd'],
      ],
    );
    const silent = capture('silent');
    silent.logger.error('e');
    assert.deepEqual(silent.lines, []);
  });

  it('lets no address, phone number or message text reach the log, whatever field a caller puts them in', () => {
    const { logger, lines } = capture();
    logger.info('turn.received', { text: MESSAGE_TEXT, activityType: 'message' });
    logger.info('account.checked', { email: ADDRESS, mobilePhone: MOBILE, account: { userPrincipalName: ADDRESS, displayName: 'Amara Mensah' } });
    logger.info('request.draft', { reason: MESSAGE_TEXT, accounts: [{ email: ADDRESS, mobilePhone: MOBILE }] });
    // A careless caller: personal data inside fields that are not on the redaction list.
    logger.warn('graph.failed', { errorMessage: `No user ${ADDRESS} (mobile +44 7700 900123, ${MOBILE})`, detail: { lookup: [ADDRESS] } });
    const logged = lines.join('\n');
    for (const secret of [ADDRESS, 'amara', MOBILE, '7700 900123', '7700900123', MESSAGE_TEXT, 'sponsorship', 'Amara Mensah']) {
      assert.ok(!logged.toLowerCase().includes(secret.toLowerCase()), `"${secret}" must not be logged:\n${logged}`);
    }
    // What an operator needs is still there.
    assert.match(logged, /"event":"account.checked"/);
    assert.match(logged, /"activityType":"message"/);
    assert.match(logged, /"errorMessage":"No user \[email\] \(mobile \[phone\], \[phone\]\)"/);
  });

  it('keeps ids, references and machine reason codes readable', () => {
    const { logger, records } = capture();
    const tenantId = '6e6d7300-0000-4000-8000-000000000001';
    logger.warn('delivery.retrying', { tenantId, reference: 'NTR-000123', reason: 'HTTP_429', inSeconds: 30 });
    assert.deepEqual(records()[0], { ...records()[0], tenantId, reference: 'NTR-000123', reason: 'HTTP_429', inSeconds: 30 });
  });

  it('stamps every line inside withCorrelationId with its id, across awaits, and only those', async () => {
    const { logger, records } = capture();
    await Promise.all([
      withCorrelationId('turn-a', async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        logger.info('a.late');
      }),
      withCorrelationId('turn-b', async () => {
        logger.info('b.early');
      }),
    ]);
    logger.info('outside');
    const byEvent = Object.fromEntries(records().map((record) => [record.event, record.correlationId]));
    assert.deepEqual(byEvent, { 'b.early': 'turn-b', 'a.late': 'turn-a', outside: undefined });
  });
});
