import { freshPglite } from './databases';

/**
 * Loaded before every test file (.mocharc.json "file"). The migrated PGlite image every fresh
 * test database is copied from is made here, once, under a limit of its own: on a loaded
 * 2-core machine it takes longer than one test's timeout, and no single test should pay for it.
 */
before(async function () {
  this.timeout(180_000);
  await (await freshPglite()).close();
});
