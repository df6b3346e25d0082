import assert from 'node:assert/strict';
import { openDatabase } from '../../services/store/open-database';

describe('opening the database', () => {
  it('names the server it could not reach, and never the password', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    await assert.rejects(openDatabase({ kind: 'postgres', url: 'postgres://nas:s3cret-pw@127.0.0.1:1/nas' }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'DATABASE_UNAVAILABLE');
      assert.match(error.message, /PostgreSQL at 127\.0\.0\.1:1\/nas could not be reached/);
      assert.doesNotMatch(error.message, /s3cret-pw|nas:/);
      return true;
    });
  });
});
