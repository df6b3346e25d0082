import assert from 'node:assert/strict';
import { evidenceLine } from '../../cards/account-rows';
import type { Evidence } from '../../services/eligibility/types';

/** Every verdict's evidence names the snapshot it used; NAS Operations see it on the card, the requester does not. */
describe('evidence: the data snapshot a verdict used', () => {
  const evidence: Evidence = {
    directoryFound: true,
    displayName: 'Amara Mensah',
    siteOds: 'ZZ9101',
    siteName: 'Harbour Lane Pharmacy',
    dsptStatus: '25/26 Standards Met',
    dsptPublished: '28 Jun 2026',
    dsptRegisterFile: 'dspt-register.csv',
    dsptRegisterDate: '27 Nov 2026, 09:15',
    dsptRegisterRows: 1234,
    nasRegisterFile: 'nas-sites.csv',
    nasRegisterDate: '20 Nov 2026, 08:00',
    nasRegisterRows: 12,
    siteRecordChanged: '3 Oct 2026',
  };

  it('names the register files with their date and rows, and the ODS record’s last change, for NAS Operations', () => {
    const line = evidenceLine(evidence, 'ops');
    assert.match(line, /DSPT register dspt-register\.csv of 27 Nov 2026, 09:15 \(1,234 rows\)/);
    assert.match(line, /NAS sites nas-sites\.csv of 20 Nov 2026, 08:00 \(12 rows\)/);
    assert.match(line, /ODS record changed 3 Oct 2026/);
  });

  it('keeps the requester’s line to what they can act on', () => {
    assert.doesNotMatch(evidenceLine(evidence, 'requester'), /register|ODS record/);
  });
});
