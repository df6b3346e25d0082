import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.join(__dirname, '..', '..');

describe('the workspace page built for local runs and tests', function () {
  this.timeout(60_000);

  it('is built once into a temporary folder, which is gone when the process exits', async () => {
    // A process of its own, as `npm start` and each test run are: the folder must not outlive it.
    const script =
      "require('./web/workspace/build.ts').workspacePageForDevelopment().then((dir) => { console.log(JSON.stringify({ dir, files: require('node:fs').readdirSync(dir) })); })";
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT });
    const built = JSON.parse(stdout.trim()) as { dir: string; files: string[] };
    assert.deepEqual([...built.files].sort(), ['index.html', 'workspace.css', 'workspace.js'], 'the page was built there');
    assert.equal(existsSync(built.dir), false, `${built.dir} was left behind`);
    assert.ok(!readdirSync(path.dirname(built.dir)).includes(path.basename(built.dir)));
  });
});
