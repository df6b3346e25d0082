import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadPolicy, type Policy } from '../../services/eligibility/policy';
import { latestRolesSnapshotFile, loadRolesSnapshot, type OrdRolesSnapshot } from '../../services/reference/ord-roles';

const ROOT = path.join(__dirname, '..', '..');

describe('the policy’s ODS roles exist in the ORD roles code system snapshot', () => {
  let policy: Policy;
  let snapshot: OrdRolesSnapshot;
  let names: Map<string, string>;
  before(async () => {
    policy = await loadPolicy(path.join(ROOT, 'policy', 'nas-transfer-policy.json'));
    snapshot = await loadRolesSnapshot(await latestRolesSnapshotFile(path.join(ROOT, 'policy')));
    names = new Map(snapshot.roles.map((role) => [role.id, role.displayName]));
  });

  it('the snapshot is dated, says where it came from, and lists each role once', () => {
    assert.match(snapshot.snapshotDate, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(snapshot.source.length > 20);
    assert.equal(names.size, snapshot.roles.length, 'no duplicate role ids');
    assert.ok(snapshot.roles.length > 100, `${snapshot.roles.length} roles`);
    for (const role of snapshot.roles) assert.equal(role.id, `RO${role.code}`);
  });

  it('every role the policy maps to a sector is in the snapshot under the name the policy expects', () => {
    const mismatches = Object.entries(policy.odsRoleSectors)
      .filter(([id, mapped]) => names.get(id) !== mapped.roleName)
      .map(([id, mapped]) => `${id}: policy says ${mapped.roleName}, snapshot says ${names.get(id) ?? '(absent)'}`);
    assert.deepEqual(mismatches, []);
  });

  it('the roles the issue names are mapped to the sectors NAS supports', () => {
    const sectorOf = (id: string) => policy.odsRoleSectors[id]?.sector;
    for (const id of ['RO101', 'RO104', 'RO269', 'RO270']) assert.equal(sectorOf(id), 'social-care', id);
    for (const id of ['RO182', 'RO181', 'RO280']) assert.equal(sectorOf(id), 'pharmacy', id);
    for (const id of ['RO110', 'RO65']) assert.equal(sectorOf(id), 'dentistry', id);
    for (const id of ['RO166', 'RO167']) assert.equal(sectorOf(id), 'optometry', id);
    assert.equal(sectorOf('RO94'), 'dispensing-appliance-contractor');
    assert.equal(sectorOf('RO266'), undefined, 'RO266 is EXTENDED ACCESS PROVIDER, not optometry');
    assert.equal(sectorOf('RO177'), undefined, 'RO177 PRESCRIBING COST CENTRE is shared by many kinds of site');
  });

  it('the optical headquarters role used for multiples is in the snapshot', () => {
    for (const id of policy.optometryMultiples.headquartersRoleIds) assert.equal(names.get(id), 'OPTICAL HEADQUARTERS', id);
  });

  it('the sandbox ORD data uses only real roles, under their real names', async () => {
    const demo = JSON.parse(await readFile(path.join(ROOT, 'dev', 'demo-ods.json'), 'utf8')) as {
      organisations: Array<{ Organisation: { Roles: { Role: Array<{ id: string }> }; Rels?: { Rel: Array<{ Target: { PrimaryRoleId?: { id: string } } }> } } }>;
      roles: { Roles: Array<{ id: string; displayName: string }> };
    };
    const used = demo.organisations.flatMap(({ Organisation }) => [
      ...Organisation.Roles.Role.map((role) => role.id),
      ...(Organisation.Rels?.Rel ?? []).flatMap((rel) => (rel.Target.PrimaryRoleId ? [rel.Target.PrimaryRoleId.id] : [])),
    ]);
    for (const id of used) assert.ok(names.has(id), `${id} is not in the roles snapshot`);
    for (const role of demo.roles.Roles) assert.equal(role.displayName, names.get(role.id), role.id);
  });
});
