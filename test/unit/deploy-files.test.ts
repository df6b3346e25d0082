import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import yaml from 'js-yaml';

/**
 * What can be checked of the deployment files without Docker, Azure or a Bicep compiler (none
 * is on this machine): the Dockerfile's stages and the paths it copies, the production bundle,
 * the Agents Toolkit project file, and the Bicep file's parameters and resource versions.
 */
const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

function dockerStages(dockerfile: string): Array<{ name: string; lines: string[] }> {
  const stages: Array<{ name: string; lines: string[] }> = [];
  const logical = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  for (const line of logical) {
    const from = line.match(/^FROM\s+\S+(?:\s+AS\s+(\S+))?/i);
    if (from) stages.push({ name: from[1] ?? `stage${stages.length}`, lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

describe('deployment files', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerStages(dockerfile);

  it('Dockerfile: builds in one stage, installs production dependencies only in another, runs as non-root with a health check', () => {
    assert.deepEqual(
      stages.map((stage) => stage.name),
      ['build', 'deps', 'runtime'],
    );
    const runtime = stages.find((stage) => stage.name === 'runtime')!.lines;
    const deps = stages.find((stage) => stage.name === 'deps')!.lines;
    assert.ok(
      deps.some((line) => /^RUN npm ci --omit=dev\b/.test(line)),
      'production dependencies only',
    );
    assert.ok(!runtime.some((line) => /^RUN npm/.test(line)), 'nothing installed in the runtime stage');
    assert.ok(runtime.some((line) => /^COPY --from=deps .*node_modules/.test(line)));
    assert.ok(
      !runtime.some((line) => /^COPY\s+(?!--from)(?:--\S+\s+)*(dev|test|bench|node_modules)\b/.test(line)),
      'no dev/, test/ or host node_modules in the image',
    );
    const user = runtime.filter((line) => /^USER /.test(line)).at(-1);
    assert.ok(user && !/^USER\s+(root|0)\b/.test(user), 'runs as a non-root user');
    assert.match(runtime.find((line) => /^HEALTHCHECK /.test(line)) ?? '', /\/healthz/);
    assert.match(runtime.find((line) => /^CMD /.test(line)) ?? '', /\["node", "dist\/index\.js"\]/, 'exec form, so SIGTERM reaches node');
  });

  it('Dockerfile: every path it copies from the build context exists and is not excluded by .dockerignore', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#') && !line.startsWith('!'));
    for (const stage of stages) {
      for (const line of stage.lines.filter((candidate) => /^COPY /.test(candidate) && !/--from=/.test(candidate))) {
        const parts = line.replace(/--\S+/g, '').trim().split(/\s+/).slice(1);
        for (const source of parts.slice(0, -1)) {
          assert.ok(existsSync(path.join(ROOT, source)), `${source} (in "${line}") exists`);
          assert.ok(!ignored.includes(source.split('/')[0]!), `${source} is not in .dockerignore`);
        }
      }
    }
  });

  it('the production bundle builds from index.ts without dev/, with its migrations and policy beside it', () => {
    const build = read('infra/build.sh');
    const result = buildSync({
      entryPoints: [path.join(ROOT, 'index.ts')],
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      packages: 'external',
      external: ['./dev/*'],
      write: false,
      metafile: true,
      logLevel: 'silent',
      outfile: 'dist/index.js',
    });
    const sources = Object.keys(result.metafile.inputs);
    assert.ok(sources.includes('index.ts') && sources.includes('config.ts'));
    assert.deepEqual(
      sources.filter((source) => /^(dev|test|bench|cli)\//.test(source)),
      [],
      'no development code in the bundle',
    );
    assert.match(build, /--external:\.\/dev\/\*/);
    assert.match(build, /cp -r services\/store\/migrations dist\/migrations/);
    assert.ok(existsSync(path.join(ROOT, 'services', 'store', 'migrations')));
    assert.match(build, /cp -r policy dist\/policy/);
  });

  it('the same NODE_OPTIONS (V8 heap bounds, issue 23) in the image and on App Service', () => {
    const image = /^\s*NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1];
    assert.ok(image?.includes('--max-old-space-size='), 'the Dockerfile bounds the heap');
    assert.match(read('infra/main.bicep'), new RegExp(`\\{ name: 'NODE_OPTIONS', value: '${image!.replace(/[-=]/g, (c) => `\\${c}`)}' \\}`));
  });

  it('one Node line everywhere: engines, the Docker base image, App Service, the bundle target, the README and the Node the tests run on', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    const major = /^\^(\d+)\./.exec(engines)?.[1];
    assert.equal(major, '24', 'Node 24 LTS (supported until April 2028)');
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
    assert.deepEqual([...new Set(bases)], [`node:${major}-bookworm-slim`]);
    assert.match(read('infra/main.bicep'), new RegExp(`'NODE\\|${major}-lts'`));
    assert.doesNotMatch(read('infra/main.bicep'), /NODE\|(?!24-lts)\d+/);
    assert.match(read('infra/build.sh'), new RegExp(`--target=node${major}\\b`));
    assert.match(read('README.md'), new RegExp(`^Node ${major} `, 'm'));
    assert.equal(process.versions.node.split('.')[0], major, 'the tests themselves run on it');
  });

  it('m365agents.yml: provision, deploy and publish, pointing at files that exist', () => {
    const project = yaml.load(read('m365agents.yml')) as Record<string, Array<{ uses: string; with?: Record<string, unknown> }>>;
    assert.match(String(project.version), /^v1\.\d+$/);
    for (const lifecycle of ['provision', 'deploy', 'publish'])
      assert.ok(Array.isArray(project[lifecycle]) && project[lifecycle].length > 0, `${lifecycle} has actions`);
    const uses = (lifecycle: string) => project[lifecycle]!.map((action) => action.uses);
    assert.ok(uses('provision').includes('arm/deploy') && uses('provision').includes('teamsApp/create'));
    assert.ok(uses('deploy').includes('azureAppService/zipDeploy'));
    assert.ok(uses('publish').includes('teamsApp/publishAppPackage'));
    const arm = project.provision!.find((action) => action.uses === 'arm/deploy')!.with!.templates as Array<{ path: string; parameters: string }>;
    for (const template of arm) {
      assert.ok(existsSync(path.join(ROOT, template.path)), template.path);
      assert.ok(existsSync(path.join(ROOT, template.parameters)), template.parameters);
    }
    for (const action of Object.values(project).flat()) {
      const manifestPath = action?.with?.manifestPath;
      if (typeof manifestPath === 'string') assert.ok(existsSync(path.join(ROOT, manifestPath)), manifestPath);
    }
  });

  it('Bicep: the parameters file names only declared parameters, and every resource has a dated API version', () => {
    const bicep = read('infra/main.bicep');
    const declared = new Set([...bicep.matchAll(/^param\s+(\w+)/gm)].map((match) => match[1]));
    const parameters = JSON.parse(read('infra/main.parameters.json')).parameters as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(parameters).filter((name) => !declared.has(name)),
      [],
    );
    const required = [...bicep.matchAll(/^param\s+(\w+)\s+\w+\s*$/gm)].map((match) => match[1]!);
    assert.deepEqual(
      required.filter((name) => !(name in parameters)),
      [],
      'every parameter without a default is given',
    );
    const resources = [...bicep.matchAll(/^resource\s+\w+\s+'([^']+)'/gm)].map((match) => match[1]!);
    for (const type of [
      'Microsoft.BotService/botServices',
      'Microsoft.Web/sites',
      'Microsoft.DBforPostgreSQL/flexibleServers',
      'Microsoft.KeyVault/vaults',
      'Microsoft.ManagedIdentity/userAssignedIdentities',
    ]) {
      assert.ok(
        resources.some((resource) => resource.startsWith(`${type}@`)),
        `${type} is declared`,
      );
    }
    for (const resource of resources) assert.match(resource, /^Microsoft\.[\w.]+\/[\w/]+@\d{4}-\d{2}-\d{2}(-preview)?$/);
    assert.match(bicep, /@Microsoft\.KeyVault\(VaultName=/, 'secrets reach the app as Key Vault references');
  });
});
