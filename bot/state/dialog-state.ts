import type { Storage, StatePropertyAccessor, TurnContext } from 'botbuilder';
import type { DialogState } from 'botbuilder-dialogs';
import { AppError } from '../../core/errors';

interface Loaded {
  key: string;
  state: DialogState | undefined;
  /** What the store said when this turn read it: the write must find it unchanged. */
  eTag: string;
  snapshot: string;
  /** The stored state was saved by another version of the form and was set aside. */
  outdated: boolean;
}

/** An eTag no stored row has (they start at 1): "create, but only if nobody else has". */
const NOT_YET_STORED = '0';

/**
 * A conversation's dialog state, written back with the eTag read at the start of the turn.
 * botbuilder's BotState.saveChanges writes with eTag "*", so two concurrent turns of one
 * conversation (a double click, a Teams retry) could both advance the same dialog; here the
 * second write is refused with STORAGE_CONFLICT and the first turn's state stands.
 */
export class DialogStateStore implements StatePropertyAccessor<DialogState> {
  readonly name = 'dialogState';
  private readonly turnKey = Symbol('dialogState');

  constructor(
    private readonly storage: Storage,
    /**
     * The version of the dialogs' steps and saved values. State saved under another version is
     * set aside rather than resumed: after a deploy that reorders steps, an old conversation
     * would otherwise carry on at the wrong one.
     */
    private readonly formVersion: number,
  ) {}

  /** Whether this turn found state saved by another version of the form (set aside, and cleared when the turn saves). */
  outdated(context: TurnContext): boolean {
    return context.turnState.get<Loaded | undefined>(this.turnKey)?.outdated ?? false;
  }

  async get(context: TurnContext, defaultValue?: DialogState): Promise<DialogState> {
    const loaded = await this.load(context);
    if (loaded.state === undefined && defaultValue !== undefined) {
      loaded.state = structuredClone(defaultValue);
      // An empty default is not a change: a turn that only looked writes nothing (unless it replaces an outdated state).
      if (!loaded.outdated) loaded.snapshot = JSON.stringify(loaded.state);
    }
    return loaded.state as DialogState;
  }

  async set(context: TurnContext, value: DialogState): Promise<void> {
    (await this.load(context)).state = value;
  }

  async delete(context: TurnContext): Promise<void> {
    (await this.load(context)).state = undefined;
  }

  /** Writes the state if this turn changed it; throws STORAGE_CONFLICT if another turn wrote first. */
  async save(context: TurnContext): Promise<void> {
    const loaded = context.turnState.get<Loaded | undefined>(this.turnKey);
    if (!loaded) return;
    const snapshot = JSON.stringify(loaded.state ?? null);
    if (snapshot === loaded.snapshot) return;
    const item = { state: loaded.state ?? null, formVersion: this.formVersion, eTag: loaded.eTag };
    try {
      await this.storage.write({ [loaded.key]: item });
    } catch (error) {
      throw error instanceof AppError ? error : new AppError('STORAGE_CONFLICT', undefined, { cause: error });
    }
    loaded.eTag = item.eTag;
    loaded.snapshot = snapshot;
  }

  private async load(context: TurnContext): Promise<Loaded> {
    const cached = context.turnState.get<Loaded | undefined>(this.turnKey);
    if (cached) return cached;
    const activity = context.activity;
    const key = `${activity.channelId}/conversations/${activity.conversation.id}/dialogState`;
    const item = (await this.storage.read([key]))[key] as { state?: DialogState | null; formVersion?: number; eTag?: string } | undefined;
    const stored = item?.state ?? undefined;
    // State from before versions were saved counts as version 1.
    const outdated = stored !== undefined && (item?.formVersion ?? 1) !== this.formVersion;
    const state = outdated ? undefined : stored;
    // An outdated state is remembered as it was, so the turn's save replaces it even if nothing else changes.
    const loaded: Loaded = { key, state, eTag: item?.eTag ?? NOT_YET_STORED, snapshot: JSON.stringify(stored ?? null), outdated };
    context.turnState.set(this.turnKey, loaded);
    return loaded;
  }
}
