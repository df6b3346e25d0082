import assert from 'node:assert/strict';
import { SqlStorage } from '../../services/store/bot-state';
import { ConversationReferences } from '../../bot/state/conversation-references';
import { ConversationReferenceRecords } from '../../services/store/conversation-references';
import { describeOnEachDatabase } from '../support/databases';

describeOnEachDatabase('SqlStorage (botbuilder Storage)', (db) => {
  it('reads back what it wrote, with an eTag', async () => {
    const storage = new SqlStorage(db());
    await storage.write({ 'conv/1': { dialogState: { step: 3 } } });
    const items = await storage.read(['conv/1', 'missing']);
    assert.deepEqual(Object.keys(items), ['conv/1']);
    assert.deepEqual(items['conv/1']!.dialogState, { step: 3 });
    assert.equal(typeof items['conv/1']!.eTag, 'string');
  });

  it('refuses a write that carries a stale eTag, and keeps the newer document', async () => {
    const storage = new SqlStorage(db());
    await storage.write({ key: { value: 'first' } });
    const seenByA = (await storage.read(['key'])).key;
    const seenByB = (await storage.read(['key'])).key;
    await storage.write({ key: { ...seenByA, value: 'from A' } });
    await assert.rejects(storage.write({ key: { ...seenByB, value: 'from B' } }), { code: 'STORAGE_CONFLICT' });
    assert.equal((await storage.read(['key'])).key!.value, 'from A');
  });

  it('lets a "*" eTag or no eTag overwrite, and the new eTag is handed back to the caller', async () => {
    const storage = new SqlStorage(db());
    const item: Record<string, unknown> = { value: 1 };
    await storage.write({ key: item });
    const firstETag = item.eTag;
    await storage.write({ key: { value: 2, eTag: '*' } });
    assert.notEqual((await storage.read(['key'])).key!.eTag, firstETag);
    item.value = 3;
    await assert.rejects(storage.write({ key: item }), { code: 'STORAGE_CONFLICT' });
  });

  it('deletes', async () => {
    const storage = new SqlStorage(db());
    await storage.write({ a: { n: 1 }, b: { n: 2 } });
    await storage.delete(['a']);
    assert.deepEqual(Object.keys(await storage.read(['a', 'b'])), ['b']);
  });

  it('keeps conversation references for proactive messages, one per key', async () => {
    const references = new ConversationReferences(new ConversationReferenceRecords(db()));
    await references.save(ConversationReferences.forUser('u1'), { serviceUrl: 'http://one', conversation: { id: 'c1' } as never });
    await references.save(ConversationReferences.forUser('u1'), { serviceUrl: 'http://two', conversation: { id: 'c1' } as never });
    assert.equal((await references.get('user:u1'))?.serviceUrl, 'http://two');
    assert.equal(await references.get(ConversationReferences.OPS_CHANNEL), null);
  });
});
