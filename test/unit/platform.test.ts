import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ActivityTypes,
  CardFactory,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type Activity,
  type ConversationReference,
  type TurnContext,
} from 'botbuilder';
import { PUBLIC_CLOUD_CHANNEL, processActivityDirectly, removeConnectorClientRetries } from '../../bot/platform/botbuilder-internals';
import { expandCard } from '../../cards/render';

/*
 * What bot/platform/botbuilder-internals.ts relies on in botbuilder beyond its public, typed
 * API, checked against the library as installed: each test fails if an upgrade moves the
 * ground under it, instead of the bot breaking quietly. No network: the adapter has no app id
 * (as a local run) and the service URL is never called.
 */
const SERVICE_URL = 'http://127.0.0.1:9/';
const ROOT = path.join(__dirname, '..', '..');
/** Text that only reaching past botbuilder's public API needs. */
const REACH_INS = [/\.processActivity\(/, /removePolicy\(/, /\bAuthenticationConstants\b/, /\bCallerIdConstants\b/, /\bGovernmentConstants\b/];

/** A file's code without its comments (which may name these things freely). */
function code(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

function productionSources(directory: string): string[] {
  return readdirSync(path.join(ROOT, directory), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(directory, entry.name);
    if (entry.isDirectory()) return productionSources(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

function unauthenticatedAdapter(): CloudAdapter {
  return new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
}

function activity(overrides: Partial<Activity>): Activity {
  return {
    type: ActivityTypes.Message,
    id: 'activity-1',
    channelId: 'msteams',
    serviceUrl: SERVICE_URL,
    from: { id: 'user-1', name: 'Priya' },
    recipient: { id: 'bot-1', name: 'Bot' },
    conversation: { id: 'conversation-1', isGroup: false, name: '', conversationType: 'personal' },
    ...overrides,
  } as Activity;
}

describe('platform: botbuilder internals the bot relies on', () => {
  it('CloudAdapter has processActivity(authHeader, activity, logic), protected in the types but there at run time', () => {
    const method = (CloudAdapter.prototype as unknown as Record<string, unknown>).processActivity;
    assert.equal(typeof method, 'function');
    assert.equal((method as (...args: unknown[]) => unknown).length, 3);
  });

  it('processActivityDirectly runs the turn with the activity and gives back the invoke response it set', async () => {
    const seen: string[] = [];
    const answer = await processActivityDirectly(
      unauthenticatedAdapter(),
      '',
      activity({ type: ActivityTypes.Invoke, name: 'adaptiveCard/action', value: { verb: 'x' } }),
      async (context: TurnContext) => {
        seen.push(`${context.activity.type}:${context.activity.name}`);
        await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 200, body: { statusCode: 200, value: 'done' } } });
      },
    );
    assert.deepEqual(seen, ['invoke:adaptiveCard/action']);
    assert.deepEqual(answer, { status: 200, body: { statusCode: 200, value: 'done' } });
  });

  it('processActivityDirectly answers nothing for a message, and the turn saw its text', async () => {
    let text: string | undefined;
    const answer = await processActivityDirectly(unauthenticatedAdapter(), '', activity({ text: 'status' }), async (context) => {
      text = context.activity.text;
    });
    assert.equal(text, 'status');
    assert.equal(answer, undefined);
  });

  it("the connector client a proactive turn uses has core-rest-pipeline's retry policy where removeConnectorClientRetries takes it out", async () => {
    const adapter = unauthenticatedAdapter();
    const reference: Partial<ConversationReference> = {
      channelId: 'msteams',
      serviceUrl: SERVICE_URL,
      conversation: { id: 'conversation-1', isGroup: false, name: '', conversationType: 'personal' },
    };
    const removed: number[] = [];
    await adapter.continueConversationAsync('', reference, async (context) => {
      assert.ok(context.turnState.get(adapter.ConnectorClientKey), 'the connector client is in turnState under ConnectorClientKey');
      removed.push(removeConnectorClientRetries(context, adapter));
      removed.push(removeConnectorClientRetries(context, adapter));
    });
    assert.deepEqual(removed, [1, 0], 'one retry policy the first time, none left the second');
  });

  it("the public-cloud settings are botbuilder's own constants, each defined (a renamed constant would be undefined)", () => {
    assert.deepEqual(PUBLIC_CLOUD_CHANNEL, {
      ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
      ToChannelFromBotOAuthScope: 'https://api.botframework.com',
      ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
      OAuthUrl: 'https://api.botframework.com',
      ToBotFromEmulatorOpenIdMetadataUrl: 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
      CallerId: 'urn:botframework:azure',
      ValidateAuthority: true,
    });
  });

  it("cards/ builds its attachments without botbuilder, exactly as botbuilder's CardFactory would", () => {
    const attachment = expandCard({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: '${title}' }] }, { title: 'NTR-100001' });
    assert.deepEqual(attachment, CardFactory.adaptiveCard({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'NTR-100001' }] }));
  });

  it('only bot/ (and the composition root) imports botbuilder: cards/, services/ and core/ do not', () => {
    const imports = ['cards', 'services', 'core'].flatMap(productionSources).filter((file) => /from '(?:botbuilder|botframework-)[^']*'/.test(code(file)));
    assert.deepEqual(imports, []);
  });

  it('no production file but bot/platform reaches past the public API', () => {
    const sources = [...['bot', 'cards', 'cli', 'core', 'services', 'dev'].flatMap(productionSources), 'app.ts', 'index.ts', 'config.ts'];
    const offenders = sources.filter((file) => !file.startsWith('bot/platform/') && REACH_INS.some((pattern) => pattern.test(code(file))));
    assert.deepEqual(offenders, []);
  });
});
